package io.semnet.resolver.protocol;

import java.util.Objects;

/** The request was malformed or not allowed; nothing changed. */
public record ErrorReply(String reason) implements ControlMessage {
  public ErrorReply {
    Objects.requireNonNull(reason, "reason");
  }

  @Override
  public String type() {
    return "error";
  }
}
