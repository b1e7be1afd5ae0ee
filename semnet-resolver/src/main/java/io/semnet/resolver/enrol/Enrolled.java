package io.semnet.resolver.enrol;

import io.semnet.core.plan.AddressPlan;
import io.semnet.core.trust.RootTrust;
import io.semnet.resolver.NodeRegistration;
import io.semnet.resolver.protocol.SignedRegistration;
import java.time.Instant;
import java.util.Objects;

/**
 * What a node holds after a successful enrolment or renewal: its registration signed by the root
 * (verified against the pinned root key), the root's key (configure the worker resolver and tunnel
 * with it) and its MQTT client certificate, if one was issued. Immutable.
 */
public final class Enrolled {
  private final SignedRegistration signed;
  private final byte[] mqttCertificate;

  Enrolled(SignedRegistration signed, byte[] mqttCertificate) {
    this.signed = Objects.requireNonNull(signed, "signed");
    this.mqttCertificate = mqttCertificate == null ? null : mqttCertificate.clone();
  }

  /** The signed registration as received (serial, validity, body and signature). */
  public SignedRegistration signedRegistration() {
    return signed;
  }

  /** The node's registration: cluster, endpoint, location, subnets, tunnel-key certificate. */
  public NodeRegistration registration() {
    return signed.registration();
  }

  /** The cluster manager the node's worker resolver talks to. */
  public String managerId() {
    return signed.managerId();
  }

  public AddressPlan plan() {
    return signed.plan();
  }

  /** The root's key (its hash matched the pinned one). */
  public RootTrust rootTrust() {
    return signed.rootKey();
  }

  /** DER X.509 MQTT client certificate (CN = node id), or null if none was issued. */
  public byte[] mqttCertificate() {
    return mqttCertificate == null ? null : mqttCertificate.clone();
  }

  /** When to renew: two thirds into the validity. */
  public Instant renewAt() {
    long span = signed.notAfter().getEpochSecond() - signed.notBefore().getEpochSecond();
    return signed.notBefore().plusSeconds(span * 2 / 3);
  }

  @Override
  public String toString() {
    return "Enrolled{" + signed + (mqttCertificate != null ? " +mqtt certificate" : "") + "}";
  }
}
