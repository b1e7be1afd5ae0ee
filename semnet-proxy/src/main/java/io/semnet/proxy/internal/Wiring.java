package io.semnet.proxy.internal;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.node.LocalInstances;
import io.semnet.core.node.NodeContext;
import io.semnet.core.node.PacketIo;
import io.semnet.core.node.RouteResolver;
import io.semnet.core.node.Tunnel;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.policy.RoutingPolicyRegistry;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import java.net.InetAddress;

/**
 * What the translator's parts take from the node at {@code start}: the other layers and the
 * largest inner packet the tunnel carries. Immutable; handed to every part once, before the first
 * packet. {@code tunnel} may be null (a node without peers).
 */
record Wiring(String nodeId, PacketIo io, Tunnel tunnel, RouteResolver resolver, LocalInstances locals,
    LocalNodeView view, RoutingPolicyRegistry policies, int maxInner) {

  /** The wiring for {@code context}; fails when the node has no packet I/O or no resolver. */
  static Wiring of(NodeContext context, TranslatorConfig config) {
    if (context.packetIo() == null) {
      throw new IllegalStateException("the translator needs packet I/O (a TUN device)");
    }
    if (context.resolver() == null) {
      throw new IllegalStateException("the translator needs a route resolver");
    }
    Tunnel tunnel = context.tunnel();
    int overhead = config.tunnelOverhead() >= 0 ? config.tunnelOverhead()
        : tunnel != null ? tunnel.overheadBytes(config.ipv6Underlay()) : 0;
    return new Wiring(context.nodeId(), context.packetIo(), tunnel, context.resolver(), context.localInstances(),
        context.view(), context.policies(), config.underlayMtu() - overhead);
  }

  /**
   * Where packets for an instance at {@code target} go: nowhere (this node) if it is a local
   * instance, or if its locator still names this node (it is frozen here, migrating away: the hold
   * takes its packets), else its worker.
   */
  WorkerEndpoint nextHop(InetAddress target, Locator at) {
    WorkerEndpoint w = at.worker();
    return locals.byNamespaceIp(target) != null || w.nodeId().equals(nodeId) ? null : w;
  }

  /** True if {@code a} is an InstanceIP of a local instance. */
  boolean isLocalInstanceIp(InetAddress a) {
    for (InstanceRecord r : locals.all()) {
      if ((r.instanceIpv4() != null && r.instanceIpv4().address().equals(a))
          || (r.instanceIpv6() != null && r.instanceIpv6().address().equals(a))) {
        return true;
      }
    }
    return false;
  }
}
