package io.semnet.core.node;

import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.policy.RoutingPolicyRegistry;

/**
 * What a {@link NodeComponent} sees of its node when it starts: identity, shared state and the
 * other components. Optional components are null when the node was built without them.
 */
public interface NodeContext {
  String nodeId();

  /** Local measurements shared by the tunnel (RTT), the translator (flows) and policies. */
  LocalNodeView view();

  RoutingPolicyRegistry policies();

  /** Instances running on this node. */
  LocalInstances localInstances();

  /** Packet I/O (TUN), or null. */
  PacketIo packetIo();

  /** Where packet I/O delivers what it reads (the translator), or null. */
  PacketHandler packetHandler();

  /** The tunnel, or null on a node without peers. */
  Tunnel tunnel();

  /** Where the tunnel delivers what peers send (the translator), or null. */
  TunnelReceiver tunnelReceiver();

  /** The route resolver, or null. */
  RouteResolver resolver();

  /**
   * A component hit an error it cannot survive (its data-path thread stopped): the node logs it,
   * enters the failed state ({@link SemnetNode#isFailed()}) and closes its components, on a thread
   * of its own (so a component may call this from the thread that failed). The default does nothing
   * (contexts outside a node).
   */
  default void fail(NodeComponent component, Throwable cause) {}
}
