package io.semnet.resolver.transport;

import io.semnet.resolver.protocol.ControlMessage;

/** A manager's presence on a transport: pushes to clients, and unbinding on close. */
public interface ServerBinding extends AutoCloseable {
  /** The id the manager is bound as. */
  String managerId();

  /**
   * Sends a push to a client, best effort and asynchronously; in order per client.
   *
   * @return false if the client is known to be unreachable now (the push was dropped)
   */
  boolean push(String clientId, ControlMessage message);

  /** Unbinds: later requests to this id fail until it is bound again. */
  @Override
  void close();
}
