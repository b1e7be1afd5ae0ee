package io.semnet.control;

import java.time.Instant;

/**
 * Issues a node's MQTT client certificate at enrolment and renewal (the platform CA's job). The
 * certificate's CN must be the node id (the broker derives the node's user name, and so its topic
 * ACL, from it). Implementations hold the CA key; {@link EnrolmentService} calls them only for
 * nodes that proved a valid join token or renew over their own authenticated identity.
 */
@FunctionalInterface
public interface ClientCertificateIssuer {
  /**
   * @param nodeId the certificate's CN
   * @param subjectPublicKeyInfo the node's public key (X.509 encoding)
   * @return the DER-encoded X.509 certificate
   * @throws IllegalArgumentException if the key is unacceptable (the enrolment is refused, nothing changes)
   */
  byte[] issue(String nodeId, byte[] subjectPublicKeyInfo, Instant notBefore, Instant notAfter);

  /**
   * As {@link #issue(String, byte[], Instant, Instant)}, for a certificate issued together with the
   * node certificate {@code serial}: an issuer that can (e.g. {@link X509CertificateIssuer}) uses it
   * as the X.509 serial, so a revocation of the node certificate names the client certificate too.
   */
  default byte[] issue(String nodeId, byte[] subjectPublicKeyInfo, long serial, Instant notBefore, Instant notAfter) {
    return issue(nodeId, subjectPublicKeyInfo, notBefore, notAfter);
  }
}
