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
 * X.509 v3 client certificates (CN = node id; serial: at enrolment the node certificate's, else
 * random 127 bits; basicConstraints CA:false, keyUsage digitalSignature, extendedKeyUsage
 * clientAuth) for the keys nodes send at enrolment, and the CA's CRLs ({@link #crl}).
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
    return issue(nodeId, subjectPublicKeyInfo, new BigInteger(127, random).setBit(0), notBefore, notAfter);
  }

  /** Issues with the given serial: the node certificate's serial, so the root's revocation list names both ({@link #crl}). */
  @Override
  public byte[] issue(String nodeId, byte[] subjectPublicKeyInfo, long serial, Instant notBefore, Instant notAfter) {
    if (serial <= 0) {
      throw new IllegalArgumentException("serial must be positive");
    }
    return issue(nodeId, subjectPublicKeyInfo, BigInteger.valueOf(serial), notBefore, notAfter);
  }

  private byte[] issue(String nodeId, byte[] subjectPublicKeyInfo, BigInteger serial, Instant notBefore, Instant notAfter) {
    Objects.requireNonNull(nodeId, "nodeId");
    if (subjectPublicKeyInfo == null || subjectPublicKeyInfo.length == 0 || subjectPublicKeyInfo.length > 2048 || subjectPublicKeyInfo[0] != 0x30) {
      throw new IllegalArgumentException("the MQTT public key must be an X.509 SubjectPublicKeyInfo");
    }
    byte[] ext = Der.explicit(3, Der.seq(
        Der.seq(Der.oid("2.5.29.19"), Der.bool(true), Der.octets(Der.seq())),
        Der.seq(Der.oid("2.5.29.15"), Der.bool(true), Der.octets(new byte[] {0x03, 0x02, 0x07, (byte) 0x80})),
        Der.seq(Der.oid("2.5.29.37"), Der.octets(Der.seq(Der.oid("1.3.6.1.5.5.7.3.2"))))));
    X509Certificate c = build(caKey, caCertificate.getSubjectX500Principal().getEncoded(), name(nodeId), subjectPublicKeyInfo,
        serial, notBefore, notAfter, ext);
    try {
      c.verify(caCertificate.getPublicKey());
      return c.getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("issued certificate does not verify", e);
    }
  }

  /**
   * A version-2 X.509 CRL of this CA listing {@code serials} (revoked at {@code thisUpdate}), with
   * CRL number {@code number}, DER-encoded and checked by the JDK's parser and the CA key. It has
   * no nextUpdate: a CRL past its nextUpdate makes OpenSSL (so the broker) refuse every client,
   * which would turn a root outage into a broker outage; it is replaced whenever the list changes.
   */
  public byte[] crl(java.util.Collection<Long> serials, long number, Instant thisUpdate) {
    Algorithm a = algorithm(caKey);
    byte[][] entries = serials.stream().sorted().map(s -> Der.seq(Der.integer(BigInteger.valueOf(s)), Der.time(thisUpdate)))
        .toArray(byte[][]::new);
    byte[] ext = Der.explicit(0, Der.seq(Der.seq(Der.oid("2.5.29.20"), Der.octets(Der.integer(BigInteger.valueOf(number))))));
    byte[] tbs = entries.length == 0
        ? Der.seq(Der.integer(BigInteger.ONE), a.id(), caCertificate.getSubjectX500Principal().getEncoded(), Der.time(thisUpdate), ext)
        : Der.seq(Der.integer(BigInteger.ONE), a.id(), caCertificate.getSubjectX500Principal().getEncoded(), Der.time(thisUpdate),
            Der.seq(entries), ext);
    try {
      byte[] crl = Der.seq(tbs, a.id(), Der.bits(a.sign(caKey, tbs)));
      ((java.security.cert.X509CRL) CertificateFactory.getInstance("X.509").generateCRL(new ByteArrayInputStream(crl))).verify(caCertificate.getPublicKey());
      return crl;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot build CRL: " + e.getMessage(), e);
    }
  }

  private static byte[] name(String cn) {
    return Der.seq(Der.set(Der.seq(Der.oid("2.5.4.3"), Der.utf8(cn))));
  }

  /** A signature algorithm: its JCA name and its DER AlgorithmIdentifier. */
  private record Algorithm(String name, byte[] id) {
    byte[] sign(PrivateKey key, byte[] tbs) throws GeneralSecurityException {
      Signature s = Signature.getInstance(name);
      s.initSign(key);
      s.update(tbs);
      return s.sign();
    }
  }

  private static Algorithm algorithm(PrivateKey signer) {
    switch (signer.getAlgorithm()) {
      case "EC":
        return new Algorithm("SHA256withECDSA", Der.seq(Der.oid("1.2.840.10045.4.3.2")));
      case "RSA":
        return new Algorithm("SHA256withRSA", Der.seq(Der.oid("1.2.840.113549.1.1.11"), Der.nul()));
      case "Ed25519":
      case "EdDSA":
        return new Algorithm("Ed25519", Der.seq(Der.oid("1.3.101.112")));
      default:
        throw new IllegalArgumentException("CA key algorithm " + signer.getAlgorithm() + " is not supported (EC, RSA, Ed25519)");
    }
  }

  private static X509Certificate build(PrivateKey signer, byte[] issuer, byte[] subject, byte[] spki, BigInteger serial,
      Instant notBefore, Instant notAfter, byte[] extensions) {
    Algorithm a = algorithm(signer);
    byte[] algId = a.id();
    byte[] tbs = Der.seq(Der.explicit(0, Der.integer(BigInteger.TWO)), Der.integer(serial), algId, issuer,
        Der.seq(Der.time(notBefore), Der.time(notAfter)), subject, spki, extensions);
    try {
      byte[] cert = Der.seq(tbs, algId, Der.bits(a.sign(signer, tbs)));
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
