package io.semnet.control;

/**
 * Receives the root's liveness events ({@link RemoteOrchestration#subscribeNodeEvents}): each
 * event once, in number order, on the subscription's own thread or a transport thread (never two
 * at once).
 */
public interface NodeEventListener {
  /** The next event. */
  void onEvent(NodeEvent event);

  /**
   * Events numbered after {@code after} up to {@code upTo} can no longer be had: the root's bounded
   * log dropped them, or a root that has since been replaced numbered them. Read the state back
   * (nodes, records) if they matter. The next {@link #onEvent} is numbered above {@code upTo}.
   */
  default void onGap(long after, long upTo) {}
}
