package io.semnet.control;

/**
 * An orchestrator request was invalid or conflicts with the current state (unknown service, address
 * already taken, node not registered, ...). The message says why; nothing was changed.
 */
public class OrchestrationException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public OrchestrationException(String message) {
    super(message);
  }

  public OrchestrationException(String message, Throwable cause) {
    super(message, cause);
  }
}
