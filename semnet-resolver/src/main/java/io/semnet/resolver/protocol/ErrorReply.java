package io.semnet.resolver.protocol;

import java.util.Objects;

/** The request was malformed or not allowed; nothing changed. */
public record ErrorReply(String reason) implements ControlMessage {
  /** Reason given when a manager does not know the client (it restarted): send {@link Hello} and retry. */
  public static final String HELLO_REQUIRED = "hello required";

  public ErrorReply {
    Objects.requireNonNull(reason, "reason");
  }

  @Override
  public String type() {
    return "error";
  }
}
