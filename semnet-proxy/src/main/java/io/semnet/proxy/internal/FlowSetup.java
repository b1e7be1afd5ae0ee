package io.semnet.proxy.internal;

import io.semnet.core.address.InstanceIp;
import io.semnet.core.address.ServiceIp;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.node.LocalInstances;
import io.semnet.core.node.RouteResolver;
import io.semnet.core.node.Tunnel;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.route.Route;
import io.semnet.proxy.Counter;
import io.semnet.proxy.internal.packet.PacketView;
import java.net.InetAddress;

/**
 * Creates flows for first packets, the table-miss side of the forwarding path: a local client's
 * first packet to a virtual address gets an instance chosen (or is parked while its route
 * resolves, or refused with an ICMP error); a peer's first packet to a local instance is learned,
 * so replies need no table query. The flow and its halves come from the {@link Flows} pool
 * (recycled objects), so a new flow allocates nothing while recycling keeps up.
 */
final class FlowSetup {
  private static final int TCP = PacketView.PROTO_TCP;

  private final Flows flows;
  private final ServiceTallies tallies;
  private final InstanceChooser chooser;
  private final IcmpHandler icmp;
  private final Health health;
  private Parking parking;
  private Wiring wiring;
  private RouteResolver resolver;
  private LocalInstances locals;
  private LocalNodeView view;
  private Tunnel tunnel;

  FlowSetup(Flows flows, ServiceTallies tallies, InstanceChooser chooser, IcmpHandler icmp, Health health) {
    this.flows = flows;
    this.tallies = tallies;
    this.chooser = chooser;
    this.icmp = icmp;
    this.health = health;
  }

  /** Where packets without a route wait (set once, before start). */
  void connect(Parking parking) {
    this.parking = parking;
  }

  void start(Wiring w) {
    this.wiring = w;
    this.resolver = w.resolver();
    this.locals = w.locals();
    this.view = w.view();
    this.tunnel = w.tunnel();
  }

  /**
   * A local client's packet that matched no flow ({@code known}: its route, when parked packets are
   * released; {@code now}: the flows' clock).
   *
   * @return the new flow's egress half to forward the packet on, or null if the packet was parked
   *     or dropped (and counted, answered with ICMP where a router would)
   */
  Half newFlow(ThreadScratch w, PacketView pv, Route known, long now) {
    boolean v6 = pv.isIpv6();
    InetAddress src = w.addresses.address(v6, pv.srcHi(), pv.srcLo());
    InstanceRecord sender = locals.byNamespaceIp(src);
    if (sender == null) {
      w.counts[Counter.DROP_UNKNOWN_SOURCE.ordinal()]++;
      return null;
    }
    InstanceIp senderIp = sender.instanceIp(!v6);
    if (senderIp == null) {
      w.counts[Counter.DROP_NO_INSTANCE_IP.ordinal()]++;
      return null;
    }
    InetAddress dst = w.addresses.address(v6, pv.dstHi(), pv.dstLo());
    Route route = known != null ? known : resolver.cached(dst);
    if (route == null) {
      parking.park(w, pv, dst);
      return null;
    }
    if (!resolver.isolationRules().mayReach(sender.service(), route.target().service())) {
      icmp.sendError(w, pv, v6 ? 1 : 3, v6 ? 1 : 13, 0, Counter.ADMIN_PROHIBITED_SENT);
      w.counts[Counter.DROP_NOT_PERMITTED.ordinal()]++;
      return null;
    }
    InstanceRecord chosen = chooser.choose(route, dst, v6, pv);
    int proto = pv.protocol();
    // A SYN starts a health stamp and a set-up latency measurement: both need the time now (the
    // flows' clock may be a sweep interval old after an idle spell). Other first packets make do
    // with the flows' clock: they only stamp when the instance's cell was last used, and an overdue
    // SYN they would notice is noticed by the sweep anyway. So only a SYN reads the clock.
    boolean syn = proto == TCP && (pv.tcpFlags() & 0x12) == 0x02;
    long synNanos = syn ? System.nanoTime() : 0;
    long fresh = syn ? synNanos / 1_000_000L : now;
    int serviceSize = route.record().instances().size();
    Health.Cell cell = chosen == null ? null : health.cell(chosen.key(), serviceSize, fresh);
    if (cell != null && health.failedBeforeUse(w, cell, fresh)) {
      chosen = chooser.choose(route, dst, v6, pv); // it was just ejected
      cell = chosen == null ? null : health.cell(chosen.key(), serviceSize, fresh);
    }
    InstanceIp chosenIp = chosen == null ? null : chosen.instanceIp(!v6);
    if (chosenIp == null) {
      icmp.unreachable(w, pv);
      return null;
    }
    InetAddress target = chosen.locator().namespaceIp(!v6);
    WorkerEndpoint hop = wiring.nextHop(target, chosen.locator());
    long t = now;
    Flow f = flows.obtain(w).init(true, proto, chosen.key(), dst, t,
        tallies.of(dst, route.target() instanceof ServiceIp sip ? sip.policy() : null),
        cell, synNanos);
    AddressCache a = w.addresses;
    long siHi = a.hi(senderIp.address());
    long siLo = a.lo(senderIp.address());
    f.out.init(Half.EGRESS, v6, proto, pv.srcHi(), pv.srcLo(), pv.dstHi(), pv.dstLo(), pv.srcPort(), pv.dstPort(),
        siHi, siLo, a.hi(target), a.lo(target), hop, f, t);
    f.in.init(Half.INGRESS, v6, proto, a.hi(chosenIp.address()), a.lo(chosenIp.address()),
        siHi, siLo, pv.dstPort(), pv.srcPort(), pv.dstHi(), pv.dstLo(), pv.srcHi(), pv.srcLo(), null, f, t);
    if (!flows.insert(w, f)) {
      w.counts[Counter.DROP_FLOW_COLLISION.ordinal()]++;
      return null;
    }
    if (syn) {
      Health.synSent(f.health, fresh);
    }
    view.flowOpened(chosen.key());
    w.counts[Counter.FLOWS_CREATED.ordinal()]++;
    return f.out;
  }

  /**
   * First packet of a flow arriving from {@code peer} (null: looped back) for a local instance:
   * remember the way back.
   *
   * @return the learned flow's ingress half to deliver the packet on, or null if it was dropped
   *     (and counted; a peer is told route-not-found for an address that is no local instance)
   */
  Half learn(ThreadScratch w, PacketView pv, WorkerEndpoint peer, long now) {
    boolean v6 = pv.isIpv6();
    InetAddress dst = w.addresses.address(v6, pv.dstHi(), pv.dstLo());
    InstanceRecord local = locals.byNamespaceIp(dst);
    if (local == null) {
      if (wiring.isLocalInstanceIp(dst)) {
        w.counts[Counter.DROP_NO_FLOW.ordinal()]++;
        return null;
      }
      if (peer != null && tunnel != null) {
        tunnel.sendRouteNotFound(peer, dst);
        w.counts[Counter.ROUTE_NOT_FOUND_SENT.ordinal()]++;
      }
      w.counts[Counter.DROP_NO_LOCAL_INSTANCE.ordinal()]++;
      return null;
    }
    InstanceIp own = local.instanceIp(!v6);
    if (own == null) {
      w.counts[Counter.DROP_NO_INSTANCE_IP.ordinal()]++;
      return null;
    }
    Flow f = learnFlow(w, pv, peer, own, now);
    return f == null ? null : f.in;
  }

  /** Records a learned flow for a packet from {@code peer} to a local instance whose InstanceIP is {@code own}; null on a collision. */
  Flow learnFlow(ThreadScratch w, PacketView pv, WorkerEndpoint peer, InstanceIp own, long now) {
    boolean v6 = pv.isIpv6();
    int proto = pv.protocol();
    long t = now;
    Flow f = flows.obtain(w).init(false, proto, null, null, t, null, null);
    f.in.init(Half.INGRESS, v6, proto, pv.srcHi(), pv.srcLo(), pv.dstHi(), pv.dstLo(), pv.srcPort(), pv.dstPort(),
        pv.srcHi(), pv.srcLo(), pv.dstHi(), pv.dstLo(), null, f, t);
    f.out.init(Half.EGRESS, v6, proto, pv.dstHi(), pv.dstLo(), pv.srcHi(), pv.srcLo(), pv.dstPort(), pv.srcPort(),
        w.addresses.hi(own.address()), w.addresses.lo(own.address()), pv.srcHi(), pv.srcLo(), peer, f, t);
    if (!flows.insert(w, f)) {
      w.counts[Counter.DROP_FLOW_COLLISION.ordinal()]++;
      return null;
    }
    w.counts[Counter.FLOWS_LEARNED.ordinal()]++;
    return f;
  }
}
