package io.semnet.core.node;

import io.semnet.core.address.WorkerEndpoint;
import java.net.InetAddress;
import java.nio.ByteBuffer;

/**
 * The overlay between worker nodes. Packets sent to a peer arrive at its
 * {@link NodeContext#tunnelReceiver()}. Sending never blocks on the network or the control plane;
 * what cannot be sent is dropped and counted.
 */
public interface Tunnel extends NodeComponent {
  /** This node's endpoint as peers should address it (public IP, port, public key). */
  WorkerEndpoint localEndpoint();

  /** Sends one IP packet (position to limit) to a peer; may be batched until {@link #flush()}. */
  void send(WorkerEndpoint peer, ByteBuffer packet);

  /**
   * Tells {@code peer} that a packet it sent for {@code namespaceIp} found no such instance here,
   * so it re-resolves and re-routes the flow.
   */
  void sendRouteNotFound(WorkerEndpoint peer, InetAddress namespaceIp);

  /**
   * True if a packet sent to {@code peer} now goes out at once rather than waiting (bounded) for
   * the link to be set up. Asking starts the set-up, so a sender with a burst to deliver (e.g. the
   * packets held for a migrated instance) can ask, and send once the link is ready. Never blocks.
   */
  default boolean isReady(WorkerEndpoint peer) {
    return true;
  }

  /** Pushes out batched sends. */
  default void flush() {}

  /**
   * Bytes the tunnel adds around an inner packet on the underlay (outer IP and UDP headers, its own
   * header, the authentication tag), for MTU and MSS clamping.
   */
  int overheadBytes(boolean ipv6Underlay);
}
