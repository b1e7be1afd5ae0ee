package io.semnet.resolver.protocol;

/** A wire message could not be decoded; the message says why. Receivers log it and drop the message. */
public class MalformedMessageException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public MalformedMessageException(String message, Throwable cause) {
    super(message, cause);
  }

  public MalformedMessageException(String message) {
    super(message);
  }
}
