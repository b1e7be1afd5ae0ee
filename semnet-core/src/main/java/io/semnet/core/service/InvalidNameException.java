package io.semnet.core.service;

/** Thrown when a string is not a valid semantic name; the message says why. */
public final class InvalidNameException extends IllegalArgumentException {
  private final String reason;

  public InvalidNameException(String name, String reason) {
    super("invalid semantic name '" + name + "': " + reason);
    this.reason = reason;
  }

  /** The reason alone, without the name. */
  public String reason() {
    return reason;
  }
}
