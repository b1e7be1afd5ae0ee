package io.semnet.core.node;

import io.semnet.core.address.WorkerEndpoint;
import java.net.InetAddress;
import java.nio.ByteBuffer;

/**
 * Receives what authenticated peers sent through the {@link Tunnel}, batch by batch (any number of
 * calls, then {@link #onTunnelBatchEnd}). Only called for datagrams that passed authentication and replay
 * checks.
 */
public interface TunnelReceiver {
  /** An inner IP packet from {@code from}; the buffer is valid only during the call and may be modified. */
  void onData(WorkerEndpoint from, ByteBuffer packet);

  /** {@code from} says the instance at {@code namespaceIp} is not on it. */
  void onRouteNotFound(WorkerEndpoint from, InetAddress namespaceIp);

  /** The end of a batch. */
  default void onTunnelBatchEnd() {}
}
