package io.semnet.resolver.transport;

/** Told by a {@link ControlTransport} when it learns that a node connected or went away. */
@FunctionalInterface
public interface LivenessListener {
  /**
   * Node {@code nodeId} is alive or gone (a clean goodbye or a lost connection, e.g. an MQTT last
   * will). Called on a transport thread, in the order the transport learned it; may repeat a state.
   */
  void onLiveness(String nodeId, boolean alive);
}
