package io.semnet.resolver.protocol;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.record.GeoPoint;
import java.util.Objects;

/**
 * A joining node's enrolment request to the root's enrolment service. It proves possession of a
 * join token without sending it: {@code proof} is an HMAC-SHA256, keyed by the token's secret, over
 * the token id, the endpoint (node id, address, tunnel public key), the location, the MQTT client
 * public key and the pinned root key hash (see {@code io.semnet.resolver.enrol.Enrolment}), so a
 * party that observes it can neither reuse the token nor attach the proof to other keys. Answered
 * with {@link EnrolReply} or an {@link ErrorReply} naming why it was refused. Immutable.
 *
 * @param tokenId the public half of the join token (selects the secret at the root)
 * @param endpoint the node's tunnel endpoint; its node id is the node's id
 * @param location where the node is, or null
 * @param mqttPublicKey the X.509 SubjectPublicKeyInfo of the key the node wants an MQTT client
 *     certificate for, or null for none
 * @param rootKeyHash the root key hash the node pinned ({@code sha256:<hex>})
 * @param proof the HMAC (32 bytes)
 */
public record EnrolRequest(String tokenId, WorkerEndpoint endpoint, GeoPoint location, byte[] mqttPublicKey,
    String rootKeyHash, byte[] proof) implements ControlMessage {
  public EnrolRequest {
    Objects.requireNonNull(tokenId, "tokenId");
    Objects.requireNonNull(endpoint, "endpoint");
    Objects.requireNonNull(rootKeyHash, "rootKeyHash");
    mqttPublicKey = mqttPublicKey == null ? null : mqttPublicKey.clone();
    proof = Objects.requireNonNull(proof, "proof").clone();
  }

  @Override
  public byte[] mqttPublicKey() {
    return mqttPublicKey == null ? null : mqttPublicKey.clone();
  }

  @Override
  public byte[] proof() {
    return proof.clone();
  }

  @Override
  public String type() {
    return "enrol";
  }
}
