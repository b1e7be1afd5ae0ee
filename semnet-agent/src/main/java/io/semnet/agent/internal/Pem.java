package io.semnet.agent.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * PEM files as openssl writes them: certificates, PKCS#8 {@code PRIVATE KEY} (EC, RSA or Ed25519)
 * and X.509 {@code PUBLIC KEY} blocks, and the TLS context of a control-plane connection built from
 * them (trusting only the given CA). Stateless.
 */
public final class Pem {
  private Pem() {}

  /** The DER bodies of every {@code -----BEGIN type-----} block in {@code file}. */
  public static List<byte[]> blocks(Path file, String type) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    String begin = "-----BEGIN " + type + "-----";
    String end = "-----END " + type + "-----";
    List<byte[]> out = new ArrayList<>();
    for (int b = text.indexOf(begin); b >= 0; b = text.indexOf(begin, b + 1)) {
      int e = text.indexOf(end, b);
      if (e < 0) {
        break;
      }
      out.add(Base64.getMimeDecoder().decode(text.substring(b + begin.length(), e)));
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(file + " holds no PEM " + type + " block");
    }
    return out;
  }

  /** A PEM block of {@code type} around {@code der}. */
  public static String encode(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  /** Writes {@code text} to {@code file} with mode 0600 (created so, never readable by others in between). */
  public static void writePrivate(Path file, String text) throws IOException {
    Files.deleteIfExists(file);
    Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, text, StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
  }

  /** The first PKCS#8 private key in {@code file} (EC, RSA or Ed25519). */
  public static PrivateKey privateKey(Path file) {
    byte[] der = blocks(file, "PRIVATE KEY").get(0);
    for (String alg : new String[] {"EC", "RSA", "Ed25519"}) {
      try {
        return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        // try the next algorithm
      }
    }
    throw new IllegalArgumentException(file + " holds no EC, RSA or Ed25519 PKCS#8 private key");
  }

  /** The first X.509 {@code PUBLIC KEY} in {@code file}, of algorithm {@code alg}. */
  public static PublicKey publicKey(Path file, String alg) {
    try {
      return KeyFactory.getInstance(alg).generatePublic(new X509EncodedKeySpec(blocks(file, "PUBLIC KEY").get(0)));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(file + " holds no " + alg + " public key", e);
    }
  }

  /** Every certificate in {@code file}. */
  public static List<X509Certificate> certificates(Path file) {
    List<X509Certificate> out = new ArrayList<>();
    for (byte[] der : blocks(file, "CERTIFICATE")) {
      out.add(certificate(der));
    }
    return out;
  }

  /** A DER certificate. */
  public static X509Certificate certificate(byte[] der) {
    try {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("malformed certificate", e);
    }
  }

  /** A TLS context presenting {@code keyManager}'s identity and trusting only the CA certificates in {@code caFile}. */
  public static SSLContext tls(Path caFile, KeyManager keyManager) {
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      int i = 0;
      for (X509Certificate c : certificates(caFile)) {
        trust.setCertificateEntry("ca" + i++, c);
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(new KeyManager[] {keyManager}, tmf.getTrustManagers(), null);
      return ctx;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot build the TLS context with CA " + caFile, e);
    }
  }
}
