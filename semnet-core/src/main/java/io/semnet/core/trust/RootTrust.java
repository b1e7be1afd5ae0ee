package io.semnet.core.trust;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.Base64;

/**
 * The root's public key, configured on every cluster manager and worker at enrollment: verifies
 * signed records and {@link NodeCertificate}s. Verification never throws on bad input; it answers
 * false. Immutable and thread-safe.
 */
public final class RootTrust {
  private final byte[] encoded;
  private final PublicKey key;

  private RootTrust(byte[] encoded, PublicKey key) {
    this.encoded = encoded;
    this.key = key;
  }

  /** From the X.509 (SubjectPublicKeyInfo) encoding of an Ed25519 public key. */
  public static RootTrust of(byte[] x509Encoded) {
    try {
      PublicKey k = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(x509Encoded));
      return new RootTrust(x509Encoded.clone(), k);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("not an Ed25519 public key", e);
    }
  }

  /** From base64 of the X.509 encoding (configuration files). */
  public static RootTrust ofBase64(String base64) {
    return of(Base64.getDecoder().decode(base64));
  }

  /** The X.509 encoding (a copy). */
  public byte[] encoded() {
    return encoded.clone();
  }

  public String toBase64() {
    return Base64.getEncoder().encodeToString(encoded);
  }

  /** True if {@code signature} is the root's signature of {@code message}. */
  public boolean verify(byte[] message, byte[] signature) {
    if (message == null || signature == null || signature.length != 64) {
      return false;
    }
    try {
      Signature s = Signature.getInstance("Ed25519");
      s.initVerify(key);
      s.update(message);
      return s.verify(signature);
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }

  /** True if the certificate is signed by the root and not expired at {@code now}. */
  public boolean verify(NodeCertificate certificate, Instant now) {
    return certificate != null
        && !now.isAfter(certificate.notAfter())
        && verify(certificate.signedBody(), certificate.signatureBytes());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RootTrust && java.util.Arrays.equals(((RootTrust) o).encoded, encoded);
  }

  @Override
  public int hashCode() {
    return java.util.Arrays.hashCode(encoded);
  }

  @Override
  public String toString() {
    return "RootTrust{" + toBase64().substring(Math.max(0, toBase64().length() - 12)) + "}";
  }
}
