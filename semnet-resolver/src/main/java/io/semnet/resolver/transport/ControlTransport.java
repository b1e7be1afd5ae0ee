package io.semnet.resolver.transport;

/**
 * Carries the control protocol between clients (workers, cluster managers) and service managers.
 *
 * <p>Contract for implementations:
 * <ul>
 *   <li>{@link #bind} makes a manager reachable under its id; requests to an unbound id fail with
 *       {@link TransportException} (or time out), never hang past the caller's timeout.
 *   <li>{@link #connect} returns at once; a channel works whenever its manager is bound, also after
 *       the manager went away and came back (the client needs no reconnect logic beyond retrying).
 *   <li>The client id a manager sees is the one the channel was opened with; a network transport
 *       must authenticate it (e.g. the client certificate of a TLS connection and topic ACLs).
 *   <li>Replies complete and pushes are delivered on transport threads, never on the caller's,
 *       and pushes to one client are delivered in the order they were sent.
 *   <li>Malformed input is dropped with a logged reason and never reaches the handlers.
 * </ul>
 * Implementations are thread-safe.
 */
public interface ControlTransport extends AutoCloseable {
  /**
   * Makes a manager reachable as {@code managerId}.
   *
   * @throws IllegalStateException if the id is already bound on this transport
   */
  ServerBinding bind(String managerId, RequestHandler handler);

  /** Opens a channel from client {@code clientId} to manager {@code managerId}. */
  ClientChannel connect(String managerId, String clientId, PushHandler pushHandler);

  /**
   * Tells {@code listener} whenever this transport learns that a node connected or went away (the
   * MQTT transport: the retained {@code alive} topics and their last wills; the in-process one:
   * {@link InProcessTransport#setAlive}). Managers use it to push availability hints. The default
   * learns nothing.
   *
   * @return closing it stops the notifications
   */
  default AutoCloseable watchLiveness(LivenessListener listener) {
    return () -> {};
  }

  /** Releases everything (bindings, channels, threads). */
  @Override
  void close();
}
