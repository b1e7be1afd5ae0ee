package io.semnet.resolver.protocol;

import java.util.Objects;

/**
 * The request was malformed, not allowed or refused by a limit; nothing changed. {@link #code()}
 * says which, on the wire, so a client can tell "retry later" ({@link #OVERLOADED},
 * {@link #RATE_LIMITED}, {@link #TOO_MANY_OUTSTANDING}) from "never" ({@link #NOT_PERMITTED},
 * {@link #ERROR}); {@link #reason()} is for people.
 */
public record ErrorReply(String code, String reason) implements ControlMessage {
  /** Reason given when a manager does not know the client (it restarted): send {@link Hello} and retry. */
  public static final String HELLO_REQUIRED = "hello required";

  /** Any other error (the code of {@link #ErrorReply(String)}). */
  public static final String ERROR = "ERROR";
  /** The manager's request queue is full: retry later. */
  public static final String OVERLOADED = "OVERLOADED";
  /** The client sent more requests than its rate allows: retry later. */
  public static final String RATE_LIMITED = "RATE_LIMITED";
  /** The client has too many requests in progress: wait for their answers. */
  public static final String TOO_MANY_OUTSTANDING = "TOO_MANY_OUTSTANDING";
  /** The client may not ask for this (e.g. a service none of its instances may reach). */
  public static final String NOT_PERMITTED = "NOT_PERMITTED";

  public ErrorReply {
    Objects.requireNonNull(code, "code");
    Objects.requireNonNull(reason, "reason");
  }

  /** A generic error ({@link #ERROR}). */
  public ErrorReply(String reason) {
    this(ERROR, reason);
  }

  /** True for the codes that mean "a limit hit, the same request may succeed later". */
  public boolean isRetryable() {
    return OVERLOADED.equals(code) || RATE_LIMITED.equals(code) || TOO_MANY_OUTSTANDING.equals(code);
  }

  @Override
  public String type() {
    return "error";
  }
}
