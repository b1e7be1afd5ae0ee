package io.semnet.control;

import io.semnet.core.trust.RootAuthority;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.Set;

/**
 * The root's signing key as the operator hands it to every root process: an Ed25519 private key in
 * a PEM {@code PRIVATE KEY} (PKCS#8) file of mode 0600, as {@code openssl genpkey -algorithm ed25519}
 * writes it. {@link #load} refuses a file any group or other user may read or write; the public key
 * is derived from the private one. Stateless; the key lives only in the returned {@link RootAuthority}.
 */
public final class RootKeyFile {
  private static final String BEGIN = "-----BEGIN PRIVATE KEY-----";
  private static final String END = "-----END PRIVATE KEY-----";
  private static final Set<PosixFilePermission> OWNER_ONLY = Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

  private RootKeyFile() {}

  /**
   * Reads the root key from {@code file}.
   *
   * @throws IllegalStateException if the file's mode allows group or others any access
   * @throws IllegalArgumentException if it holds no Ed25519 PKCS#8 private key
   */
  public static RootAuthority load(Path file) {
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
      if (!OWNER_ONLY.containsAll(perms)) {
        throw new IllegalStateException("root key " + file + " has mode " + PosixFilePermissions.toString(perms)
            + "; it must be readable by its owner only (chmod 600)");
      }
      String pem = Files.readString(file, StandardCharsets.US_ASCII);
      int b = pem.indexOf(BEGIN);
      int e = pem.indexOf(END);
      if (b < 0 || e < b) {
        throw new IllegalArgumentException("root key " + file + " holds no PEM PRIVATE KEY block");
      }
      byte[] der = Base64.getMimeDecoder().decode(pem.substring(b + BEGIN.length(), e));
      return RootAuthority.of(pairOf(der));
    } catch (IOException ex) {
      throw new UncheckedIOException("cannot read root key " + file, ex);
    }
  }

  /** Writes a fresh root key to {@code file} (mode 0600, atomically) and returns it (set-up tools, tests). */
  public static RootAuthority generate(Path file) {
    try {
      KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
      String pem = BEGIN + "\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(pair.getPrivate().getEncoded())
          + "\n" + END + "\n";
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.deleteIfExists(tmp);
      Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
      Files.writeString(tmp, pem, StandardCharsets.US_ASCII);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      return RootAuthority.of(pair);
    } catch (IOException ex) {
      throw new UncheckedIOException("cannot write root key " + file, ex);
    } catch (GeneralSecurityException ex) {
      throw new IllegalStateException("Ed25519 is not available", ex);
    }
  }

  /** The key pair of an Ed25519 PKCS#8 private key: the public key is derived by regenerating the pair from its seed. */
  private static KeyPair pairOf(byte[] pkcs8) {
    try {
      PrivateKey priv = KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
      byte[] enc = priv.getEncoded();
      byte[] seed = Arrays.copyOfRange(enc, enc.length - 32, enc.length);
      KeyPairGenerator g = KeyPairGenerator.getInstance("Ed25519");
      g.initialize(NamedParameterSpec.ED25519, new SecureRandom() {
        private static final long serialVersionUID = 1L;

        @Override
        public void nextBytes(byte[] bytes) {
          System.arraycopy(seed, 0, bytes, 0, Math.min(bytes.length, seed.length));
        }
      });
      KeyPair pair = g.generateKeyPair();
      if (!Arrays.equals(pair.getPrivate().getEncoded(), enc)) {
        throw new IllegalArgumentException("cannot derive the public key of this Ed25519 key");
      }
      return pair;
    } catch (GeneralSecurityException | RuntimeException ex) {
      throw new IllegalArgumentException("not an Ed25519 PKCS#8 private key: " + ex.getMessage(), ex);
    }
  }
}
