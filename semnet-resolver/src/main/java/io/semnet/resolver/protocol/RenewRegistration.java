package io.semnet.resolver.protocol;

import java.util.Objects;

/**
 * An enrolled node asks the root's enrolment service for a fresh signed registration (and MQTT
 * client certificate) before its current one expires. Sent over the node's own authenticated
 * transport identity: the service renews only the node whose id the transport authenticated, and
 * only while its certificate is still valid. Answered with {@link EnrolReply}. Immutable.
 *
 * @param nodeId the node (must equal the authenticated client id)
 * @param mqttPublicKey SubjectPublicKeyInfo for a new MQTT client certificate, or null for none
 */
public record RenewRegistration(String nodeId, byte[] mqttPublicKey) implements ControlMessage {
  public RenewRegistration {
    Objects.requireNonNull(nodeId, "nodeId");
    mqttPublicKey = mqttPublicKey == null ? null : mqttPublicKey.clone();
  }

  @Override
  public byte[] mqttPublicKey() {
    return mqttPublicKey == null ? null : mqttPublicKey.clone();
  }

  @Override
  public String type() {
    return "renew-registration";
  }
}
