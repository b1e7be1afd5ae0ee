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
 *
 * <p>Key rotation: {@link #withPrevious} makes a trust in the new key that also accepts the previous
 * key's signatures until the end of an overlap period (wall clock), so nodes configured with it
 * accept both while the root processes switch to the new key, and only the new key afterwards.
 */
public final class RootTrust {
  private final byte[] encoded;
  private final PublicKey key;
  private final RootTrust previous;
  private final Instant previousUntil;

  private RootTrust(byte[] encoded, PublicKey key, RootTrust previous, Instant previousUntil) {
    this.encoded = encoded;
    this.key = key;
    this.previous = previous;
    this.previousUntil = previousUntil;
  }

  /**
   * This key, also accepting signatures by {@code previous} (its own key only) until {@code until};
   * {@link #encoded()}, equality and the enrolment hash stay this key's.
   */
  public RootTrust withPrevious(RootTrust previous, Instant until) {
    java.util.Objects.requireNonNull(previous, "previous");
    java.util.Objects.requireNonNull(until, "until");
    return new RootTrust(encoded, key, new RootTrust(previous.encoded, previous.key, null, null), until);
  }

  /** The previous key still accepted until {@link #previousUntil()}, or null. */
  public RootTrust previous() {
    return previous;
  }

  /** The end of the rotation overlap, or null. */
  public Instant previousUntil() {
    return previousUntil;
  }

  /** From the X.509 (SubjectPublicKeyInfo) encoding of an Ed25519 public key. */
  public static RootTrust of(byte[] x509Encoded) {
    try {
      PublicKey k = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(x509Encoded));
      return new RootTrust(x509Encoded.clone(), k, null, null);
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

  /** True if {@code signature} is the root's signature of {@code message} (or the previous key's, during the overlap). */
  public boolean verify(byte[] message, byte[] signature) {
    if (verifyWith(key, message, signature)) {
      return true;
    }
    return previous != null && !Instant.now().isAfter(previousUntil) && previous.verify(message, signature);
  }

  private static boolean verifyWith(PublicKey key, byte[] message, byte[] signature) {
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

  /** How far a verifier's clock may be behind the root's: a certificate is valid from {@code notBefore} minus this. */
  public static final java.time.Duration CLOCK_SKEW = java.time.Duration.ofMinutes(5);

  /**
   * True if the certificate is signed by the root and valid at {@code now}: not expired and not
   * before its {@code notBefore} (less {@link #CLOCK_SKEW}).
   */
  public boolean verify(NodeCertificate certificate, Instant now) {
    return certificate != null
        && !now.isAfter(certificate.notAfter())
        && !now.isBefore(certificate.notBefore().minus(CLOCK_SKEW))
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
