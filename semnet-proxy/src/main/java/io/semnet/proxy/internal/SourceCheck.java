package io.semnet.proxy.internal;

import io.semnet.core.address.InstanceIp;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.node.LocalInstances;
import io.semnet.core.node.RouteResolver;
import io.semnet.core.node.Tunnel;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.route.Route;
import io.semnet.proxy.Counter;
import io.semnet.proxy.internal.packet.AddressWords;
import io.semnet.proxy.internal.packet.PacketView;
import java.net.InetAddress;

/**
 * Cryptokey routing (WireGuard's AllowedIPs, with the root's signed records as the table): a peer
 * may use as inner source only the InstanceIPs of instances whose signed locator names that peer's
 * node. The tunnel authenticates the node; this part decides which addresses it may speak for.
 *
 * <p>Checked when a source is first seen, never per packet of an established flow: a peer's first
 * packet of a flow for a local instance (or a held one) is admitted only if the route of its source
 * address (an InstanceIP; namespace IPs never travel as inner sources) places it on the peer, and
 * the sender's service may reach the local instance's (isolation on ingress). An uncached source is
 * parked like a route miss while the resolver is asked by address. A flow already known moves to
 * another peer only when the source's signed locator names that peer, and a local client's flow
 * accepts replies and ICMP errors only from its next hop.
 *
 * <p>Migration: the node a signed locator names as the instance's {@link Locator#previous()} may, for
 * the migration linger after the move, forward packets for that instance (held and late ones) and
 * relay its replies; nothing else.
 */
final class SourceCheck {
  static final int ADMIT = 0;
  static final int PARKED = 1;
  static final int DENIED = 2;

  private final long lingerMs;
  private Parking parking;
  private RouteResolver resolver;
  private LocalInstances locals;
  private Tunnel tunnel;

  SourceCheck(TranslatorConfig c) {
    this.lingerMs = c.holdLingerNanos() / 1_000_000L;
  }

  /** Where packets with a source being verified wait (set once, before start). */
  void connect(Parking parking) {
    this.parking = parking;
  }

  void start(Wiring w) {
    this.resolver = w.resolver();
    this.locals = w.locals();
    this.tunnel = w.tunnel();
  }

  /**
   * A peer's packet that matched no flow, for a local instance ({@code local}) or for an instance
   * held here while it migrates ({@code local} null): admitted, parked while its source resolves, or
   * denied (counted). {@code w.srcRoute} carries the source's route when parked packets come back.
   */
  int admitNew(ThreadScratch w, PacketView pv, WorkerEndpoint peer, InstanceRecord local) {
    Route known = w.srcRoute;
    w.srcRoute = null;
    boolean v6 = pv.isIpv6();
    InetAddress src = w.addresses.address(v6, pv.srcHi(), pv.srcLo());
    Route r = known != null && known.target().address().equals(src) ? known : resolver.cached(src);
    if (r == null) {
      parking.parkSource(w, pv, src, peer);
      return PARKED;
    }
    InstanceRecord sender = instanceOf(r);
    String node = peer.nodeId();
    long nowMs = System.currentTimeMillis();
    boolean placed = sender != null && places(sender, node, nowMs);
    if (sender == null || !placed && !forwardsFor(local, node, nowMs)) {
      w.counts[Counter.DROP_SOURCE_NOT_OWNED.ordinal()]++;
      return DENIED;
    }
    if (local != null && !resolver.isolationRules().mayReach(sender.service(), local.service())) {
      w.counts[Counter.DROP_NOT_PERMITTED_INGRESS.ordinal()]++;
      return DENIED;
    }
    if (!placed && tunnel != null && sender.locator() != null) {
      // A new flow the previous place of a moved instance forwards: its sender will switch to this
      // node when it applies the move. Set the link to the sender's node up now, so the switch does
      // not wait for a handshake (a first contact kept the flow on the old path for the handshake,
      // then switched after the replay end and overtook what the old path still forwarded).
      tunnel.isReady(sender.locator().worker());
    }
    return ADMIT;
  }

  /**
   * A packet of a flow learned from another peer now arrives from {@code peer}: true if the source's
   * signed locator names {@code peer} (the sender moved there: the flow roams); false otherwise
   * (see {@link #relays} for a previous place that may still forward without taking the flow).
   */
  boolean mayRoam(PacketView pv, WorkerEndpoint peer) {
    InstanceRecord sender = cachedInstance(pv.isIpv6(), pv.srcHi(), pv.srcLo());
    return sender != null && sender.locator() != null && sender.locator().worker().nodeId().equals(peer.nodeId());
  }

  /**
   * True if {@code peer} may forward (late packets) to the local destination of {@code pv} or relay
   * replies of its source: a signed locator names it as the previous place, within the linger.
   */
  boolean relays(PacketView pv, WorkerEndpoint peer) {
    long nowMs = System.currentTimeMillis();
    String node = peer.nodeId();
    InstanceRecord sender = cachedInstance(pv.isIpv6(), pv.srcHi(), pv.srcLo());
    if (sender != null && sender.locator() != null && sender.locator().previousMayRelay(node, nowMs, lingerMs)) {
      return true;
    }
    InstanceRecord local = locals.byNamespaceIp(AddressWords.toInetAddress(pv.isIpv6(), pv.dstHi(), pv.dstLo()));
    return forwardsFor(local, node, nowMs);
  }

  /**
   * A reply (or ICMP error) for a local client's flow from {@code peer}, which is not the flow's
   * recorded next hop: accepted only if the chosen instance's current signed locator names the peer
   * (the flow is about to be re-pointed there) or names it as the previous place within the linger.
   */
  boolean mayAnswer(Flow f, WorkerEndpoint peer) {
    if (f.instance == null || f.virtualDst == null) {
      return false;
    }
    Route r = resolver.cached(f.virtualDst);
    InstanceRecord i = r == null ? null : r.record().instance(f.instance.ordinal());
    Locator l = i == null ? null : i.locator();
    return l != null && (l.worker().nodeId().equals(peer.nodeId())
        || l.previousMayRelay(peer.nodeId(), System.currentTimeMillis(), lingerMs));
  }

  /** True if {@code a} and {@code b} are the same node (the tunnel authenticates node identities). */
  static boolean sameNode(WorkerEndpoint a, WorkerEndpoint b) {
    return a == b || a != null && b != null && a.nodeId().equals(b.nodeId());
  }

  private boolean places(InstanceRecord sender, String node, long nowMs) {
    Locator l = sender.locator();
    return l != null && (l.worker().nodeId().equals(node) || l.previousMayRelay(node, nowMs, lingerMs));
  }

  /**
   * The local instance's cached signed locator or the attached one (what this node restored, then
   * the record the root returned for it) names {@code node} as its previous place. Both count: on a
   * move back to a node that still caches the record of the move away, the push of the return move
   * comes later than the previous place's replay.
   */
  private boolean forwardsFor(InstanceRecord local, String node, long nowMs) {
    if (local == null) {
      return false;
    }
    Locator attached = local.locator();
    if (attached != null && attached.previousMayRelay(node, nowMs, lingerMs)) {
      return true;
    }
    InstanceIp iip = local.instanceIpv4() != null ? local.instanceIpv4() : local.instanceIpv6();
    Route r = iip == null ? null : resolver.cached(iip.address());
    InstanceRecord signed = r == null ? null : instanceOf(r);
    Locator l = signed != null && signed.key().equals(local.key()) ? signed.locator() : null;
    return l != null && l.previousMayRelay(node, nowMs, lingerMs);
  }

  private InstanceRecord cachedInstance(boolean v6, long hi, long lo) {
    Route r = resolver.cached(AddressWords.toInetAddress(v6, hi, lo));
    return r == null ? null : instanceOf(r);
  }

  private static InstanceRecord instanceOf(Route r) {
    return r.target() instanceof InstanceIp ? r.instance() : null;
  }
}
