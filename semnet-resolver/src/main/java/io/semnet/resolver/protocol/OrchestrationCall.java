package io.semnet.resolver.protocol;

import java.util.Objects;

/**
 * One operation of the orchestration API sent by a remote orchestrator to the root. {@code body} is
 * a JSON text (operation, arguments, nonce, expiry, idempotency id) signed as it stands (Ed25519
 * over its UTF-8 bytes, domain-separated), so no re-encoding on the way can break or alter it; the
 * root executes a given (key, id) at most once and answers repeats with the first result. Answered
 * with {@link OrchestrationResult} or an {@link ErrorReply}. Immutable.
 *
 * @param body the signed request body (JSON text)
 * @param key the orchestrator's Ed25519 public key (X.509 SubjectPublicKeyInfo)
 * @param signature Ed25519 signature (64 bytes)
 */
public record OrchestrationCall(String body, byte[] key, byte[] signature) implements ControlMessage {
  public OrchestrationCall {
    Objects.requireNonNull(body, "body");
    key = Objects.requireNonNull(key, "key").clone();
    signature = Objects.requireNonNull(signature, "signature").clone();
  }

  @Override
  public byte[] key() {
    return key.clone();
  }

  @Override
  public byte[] signature() {
    return signature.clone();
  }

  @Override
  public String type() {
    return "orchestrate";
  }
}
