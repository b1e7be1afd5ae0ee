package io.semnet.resolver.enrol;

/**
 * Enrolment or renewal failed: the root refused it (the message carries the root's reason, e.g.
 * an unknown, expired or already used token), or the answer could not be trusted (root key not
 * the pinned one, bad signature, registration for other keys). Nothing was stored on the node.
 */
public class EnrolmentException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public EnrolmentException(String message) {
    super(message);
  }

  public EnrolmentException(String message, Throwable cause) {
    super(message, cause);
  }
}
