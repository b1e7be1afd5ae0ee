package io.semnet.resolver.protocol;

import java.util.Objects;

/**
 * The root's answer to {@link EnrolRequest} or {@link RenewRegistration}: the node's registration
 * signed by the root, and its MQTT client certificate if one was asked for and the root issues
 * them. Immutable.
 *
 * @param registration the signed registration (the node verifies it against the pinned root key)
 * @param mqttCertificate the DER X.509 client certificate, or null
 */
public record EnrolReply(SignedRegistration registration, byte[] mqttCertificate) implements ControlMessage {
  public EnrolReply {
    Objects.requireNonNull(registration, "registration");
    mqttCertificate = mqttCertificate == null ? null : mqttCertificate.clone();
  }

  @Override
  public byte[] mqttCertificate() {
    return mqttCertificate == null ? null : mqttCertificate.clone();
  }

  @Override
  public String type() {
    return "enrol-reply";
  }
}
