package io.semnet.control;

import io.semnet.control.internal.Der;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Objects;

/**
 * A {@link ClientCertificateIssuer} on the JDK alone: the platform CA's key and certificate sign
 * X.509 v3 client certificates (CN = node id, random 127-bit serial, basicConstraints CA:false,
 * keyUsage digitalSignature, extendedKeyUsage clientAuth) for the keys nodes send at enrolment.
 * The JDK has no public certificate builder, and the structure needed is small and fixed, so the
 * DER is written here rather than adding BouncyCastle; certificates are checked by the JDK's
 * parser before they are returned (and by {@code openssl verify} in the tests). CA keys: EC
 * (ECDSA with SHA-256), RSA (SHA-256) or Ed25519. Thread-safe.
 */
public final class X509CertificateIssuer implements ClientCertificateIssuer {
  private final PrivateKey caKey;
  private final X509Certificate caCertificate;
  private final SecureRandom random = new SecureRandom();

  /** An issuer signing with {@code caKey}, whose certificate is {@code caCertificate}. */
  public X509CertificateIssuer(PrivateKey caKey, X509Certificate caCertificate) {
    this.caKey = Objects.requireNonNull(caKey, "caKey");
    this.caCertificate = Objects.requireNonNull(caCertificate, "caCertificate");
  }

  /** A self-signed CA certificate for {@code pair} (e.g. to set up a lab broker; CA:true, keyCertSign). */
  public static X509Certificate selfSignedCa(String commonName, KeyPair pair, Instant notBefore, Instant notAfter) {
    byte[] name = name(commonName);
    byte[] ext = Der.explicit(3, Der.seq(
        Der.seq(Der.oid("2.5.29.19"), Der.bool(true), Der.octets(Der.seq(Der.bool(true)))),
        Der.seq(Der.oid("2.5.29.15"), Der.bool(true), Der.octets(new byte[] {0x03, 0x02, 0x01, 0x06}))));
    return build(pair.getPrivate(), name, name, pair.getPublic().getEncoded(), new BigInteger(127, new SecureRandom()).setBit(0),
        notBefore, notAfter, ext);
  }

  /** The CA certificate issued certificates chain to. */
  public X509Certificate caCertificate() {
    return caCertificate;
  }

  @Override
  public byte[] issue(String nodeId, byte[] subjectPublicKeyInfo, Instant notBefore, Instant notAfter) {
    Objects.requireNonNull(nodeId, "nodeId");
    if (subjectPublicKeyInfo == null || subjectPublicKeyInfo.length == 0 || subjectPublicKeyInfo.length > 2048 || subjectPublicKeyInfo[0] != 0x30) {
      throw new IllegalArgumentException("the MQTT public key must be an X.509 SubjectPublicKeyInfo");
    }
    byte[] ext = Der.explicit(3, Der.seq(
        Der.seq(Der.oid("2.5.29.19"), Der.bool(true), Der.octets(Der.seq())),
        Der.seq(Der.oid("2.5.29.15"), Der.bool(true), Der.octets(new byte[] {0x03, 0x02, 0x07, (byte) 0x80})),
        Der.seq(Der.oid("2.5.29.37"), Der.octets(Der.seq(Der.oid("1.3.6.1.5.5.7.3.2"))))));
    X509Certificate c = build(caKey, caCertificate.getSubjectX500Principal().getEncoded(), name(nodeId), subjectPublicKeyInfo,
        new BigInteger(127, random).setBit(0), notBefore, notAfter, ext);
    try {
      c.verify(caCertificate.getPublicKey());
      return c.getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("issued certificate does not verify", e);
    }
  }

  private static byte[] name(String cn) {
    return Der.seq(Der.set(Der.seq(Der.oid("2.5.4.3"), Der.utf8(cn))));
  }

  private static X509Certificate build(PrivateKey signer, byte[] issuer, byte[] subject, byte[] spki, BigInteger serial,
      Instant notBefore, Instant notAfter, byte[] extensions) {
    String alg;
    byte[] algId;
    switch (signer.getAlgorithm()) {
      case "EC":
        alg = "SHA256withECDSA";
        algId = Der.seq(Der.oid("1.2.840.10045.4.3.2"));
        break;
      case "RSA":
        alg = "SHA256withRSA";
        algId = Der.seq(Der.oid("1.2.840.113549.1.1.11"), Der.nul());
        break;
      case "Ed25519":
      case "EdDSA":
        alg = "Ed25519";
        algId = Der.seq(Der.oid("1.3.101.112"));
        break;
      default:
        throw new IllegalArgumentException("CA key algorithm " + signer.getAlgorithm() + " is not supported (EC, RSA, Ed25519)");
    }
    byte[] tbs = Der.seq(Der.explicit(0, Der.integer(BigInteger.TWO)), Der.integer(serial), algId, issuer,
        Der.seq(Der.time(notBefore), Der.time(notAfter)), subject, spki, extensions);
    try {
      Signature s = Signature.getInstance(alg);
      s.initSign(signer);
      s.update(tbs);
      byte[] cert = Der.seq(tbs, algId, Der.bits(s.sign()));
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(cert));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot build certificate: " + e.getMessage(), e);
    }
  }

  /** Checks that {@code der} is a certificate of this CA for {@code key} (for tests and callers). */
  public boolean issued(byte[] der, PublicKey key) {
    try {
      X509Certificate c = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
      c.verify(caCertificate.getPublicKey());
      return java.util.Arrays.equals(c.getPublicKey().getEncoded(), key.getEncoded());
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}
