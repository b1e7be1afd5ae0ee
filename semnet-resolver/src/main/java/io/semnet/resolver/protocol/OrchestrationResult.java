package io.semnet.resolver.protocol;

import java.util.Objects;

/**
 * The result of an {@link OrchestrationCall} that succeeded: a JSON text whose form depends on the
 * operation (see semnet-control's README). Immutable.
 *
 * @param body JSON text of the result
 */
public record OrchestrationResult(String body) implements ControlMessage {
  public OrchestrationResult {
    Objects.requireNonNull(body, "body");
  }

  @Override
  public String type() {
    return "orchestrate-reply";
  }
}
