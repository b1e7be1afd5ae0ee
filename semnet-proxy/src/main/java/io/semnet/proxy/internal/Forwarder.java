package io.semnet.proxy.internal;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.node.LocalInstances;
import io.semnet.core.node.PacketIo;
import io.semnet.core.node.Tunnel;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.route.Route;
import io.semnet.proxy.Counter;
import io.semnet.proxy.internal.packet.AddressRewriter;
import io.semnet.proxy.internal.packet.MssClamp;
import io.semnet.proxy.internal.packet.PacketView;
import java.nio.ByteBuffer;

/**
 * The forwarding hot path: every packet from the TUN ({@link #onPacket}) or a peer
 * ({@link #onData}) is parsed in place into the thread's {@link ThreadScratch}, looked up in the
 * {@link FlowTable} (lock-free) and rewritten in place (addresses, TTL, checksums adjusted by the
 * delta precomputed for the flow), then sent to the tunnel, written to the TUN or looped back.
 * Packets of established flows allocate nothing and take no lock. A miss creates a flow (an
 * instance chosen by policy, or a flow learned from a peer), parks the packet while its route
 * resolves, or hands it to a migration hold; ICMP errors go through the {@link IcmpHandler}.
 */
public final class Forwarder {
  private static final Counter[] PARSE_DROPS = {
    null, Counter.DROP_TRUNCATED, Counter.DROP_BAD_VERSION, Counter.DROP_BAD_IHL, Counter.DROP_BAD_LENGTH,
    Counter.DROP_UNSUPPORTED_PROTOCOL, Counter.DROP_MAPPED_ADDRESS
  };
  private static final int TCP = PacketView.PROTO_TCP;
  private static final int UDP = PacketView.PROTO_UDP;
  private static final int ICMP = PacketView.PROTO_ICMP;
  private static final int ICMPV6 = PacketView.PROTO_ICMPV6;
  /** Outcomes of {@link #lookup}. */
  private static final int CONSUMED = 0;
  private static final int FOUND = 1;
  private static final int MISS = 2;

  private final FlowTable table;
  private final Flows flows;
  private final ThreadScratches scratches;
  private final FlowSetup setup;
  private final IcmpHandler icmp;
  private final SourceCheck sources;
  private final Health health;
  private Parking parking;
  private final boolean clampMss;
  private final ThreadScratch none = new ThreadScratch(null);
  private MigrationHolds holds;
  private ReplayGates gates;
  private volatile ThreadScratch lastTunScratch = none;
  private volatile ThreadScratch lastTunnelScratch = none;
  private volatile long now = clock();
  private PacketIo io;
  private Tunnel tunnel;
  private LocalNodeView view;
  private LocalInstances locals;
  private int maxInner = Integer.MAX_VALUE;

  Forwarder(TranslatorConfig c, FlowTable table, Flows flows, ThreadScratches scratches, FlowSetup setup,
      IcmpHandler icmp, SourceCheck sources, Health health) {
    this.sources = sources;
    this.health = health;
    this.table = table;
    this.flows = flows;
    this.scratches = scratches;
    this.setup = setup;
    this.icmp = icmp;
    this.clampMss = c.clampMss();
  }

  /** The migration holds that take packets off the path and hand them back (set once, before start). */
  void connect(MigrationHolds holds, ReplayGates gates, Parking parking) {
    this.holds = holds;
    this.gates = gates;
    this.parking = parking;
  }

  void start(Wiring w) {
    this.io = w.io();
    this.tunnel = w.tunnel();
    this.view = w.view();
    this.locals = w.locals();
    this.maxInner = w.maxInner();
  }

  /** The largest inner packet the tunnel carries (underlay MTU minus overhead). */
  public int maxInner() {
    return maxInner;
  }

  /** Coarse millis of the last batch end or sweep, the flows' clock. */
  long now() {
    return now;
  }

  /** Advances the flows' clock (the sweep does, as well as every batch end). */
  void setNow(long t) {
    now = t;
  }

  public static long clock() {
    return System.nanoTime() / 1_000_000L;
  }

  // ---------------------------------------------------------------- entry points

  /** A packet read from the TUN (a local instance sent it). */
  public void onPacket(ByteBuffer packet) {
    ThreadScratch w = tunScratch();
    w.depth++; // no quiescent point inside (one nested, e.g. parked packets released inline, is skipped)
    egress(w, packet, packet.position(), packet.limit(), null);
    w.depth--;
  }

  /** The end of a batch of TUN reads: flushes what the batch sent. */
  public void onPacketBatchEnd() {
    now = clock();
    ThreadScratch w = tunScratch();
    flush(w);
    w.endBatch();
  }

  /** A packet from peer {@code from}. */
  public void onData(WorkerEndpoint from, ByteBuffer packet) {
    ThreadScratch w = tunnelScratch();
    w.depth++;
    ingress(w, packet, packet.position(), packet.limit(), from);
    w.depth--;
  }

  /** The end of a batch of tunnel receives: flushes what the batch sent. */
  public void onTunnelBatchEnd() {
    now = clock();
    ThreadScratch w = tunnelScratch();
    flush(w);
    w.endBatch();
  }

  /**
   * The scratch of the thread reading the TUN. Each entry point is normally driven by one thread,
   * so its scratch is remembered next to the thread and the ThreadLocal is only consulted when
   * the thread changes.
   */
  private ThreadScratch tunScratch() {
    ThreadScratch w = lastTunScratch;
    if (w.thread != Thread.currentThread()) {
      w = scratches.get();
      lastTunScratch = w;
    }
    return w;
  }

  private ThreadScratch tunnelScratch() {
    ThreadScratch w = lastTunnelScratch;
    if (w.thread != Thread.currentThread()) {
      w = scratches.get();
      lastTunnelScratch = w;
    }
    return w;
  }

  void flush(ThreadScratch w) {
    if (w.tunnelDirty) {
      w.tunnelDirty = false;
      tunnel.flush();
    }
    if (w.ioDirty) {
      w.ioDirty = false;
      io.flush();
    }
  }

  // ---------------------------------------------------------------- egress: from local instances

  /** A packet from a local instance; {@code known} is its route when parked packets are released. */
  void egress(ThreadScratch w, ByteBuffer b, int from, int to, Route known) {
    switch (lookup(w, b, from, to, Half.EGRESS, null)) {
      case FOUND:
        forwardOut(w, w.pv, w.found);
        break;
      case MISS: {
        Half h = setup.newFlow(w, w.pv, known, now);
        if (h != null) {
          forwardOut(w, w.pv, h);
        }
        break;
      }
      default:
        break;
    }
  }

  /**
   * Parses a packet travelling in {@code direction} and finds its flow half. Malformed packets,
   * ICMP other than echo and errors, and orphan fragments are counted and consumed here; ICMP
   * errors are translated here. On {@link #FOUND} the half is in {@code w.found}.
   */
  private int lookup(ThreadScratch w, ByteBuffer b, int from, int to, int direction, WorkerEndpoint peer) {
    w.enter();
    PacketView pv = w.pv;
    int st = pv.parse(b, from, to);
    if (st != 0) {
      if (peer != null && direction == Half.INGRESS && (gates.marker(w, st, pv, peer) || holds.restoredSignal(w, st, pv, peer))) {
        return CONSUMED;
      }
      w.counts[PARSE_DROPS[st].ordinal()]++;
      return CONSUMED;
    }
    int proto = pv.protocol();
    if ((proto == ICMP || proto == ICMPV6) && pv.isFirstFragment() && !pv.isEcho()) {
      if (pv.isIcmpError()) {
        icmpError(w, pv, direction, peer);
      } else {
        w.counts[Counter.DROP_ICMP_OTHER.ordinal()]++;
      }
      return CONSUMED;
    }
    Half h;
    if (!pv.isFirstFragment()) {
      h = findFragment(pv, direction);
      if (h == null) {
        w.counts[Counter.DROP_FRAGMENT_NO_FLOW.ordinal()]++;
        return CONSUMED;
      }
      if (!pv.moreFragments()) {
        // the datagram's last fragment: its entry is done (a middle one overtaken by it is lost)
        flows.removeFragment(h);
      }
    } else {
      h = table.find(direction, pv.isIpv6(), proto, pv.srcHi(), pv.srcLo(), pv.dstHi(), pv.dstLo(),
          pv.srcPort(), pv.dstPort());
      if (h == null) {
        return MISS;
      }
    }
    w.found = h;
    return FOUND;
  }

  private void forwardOut(ThreadScratch w, PacketView pv, Half h) {
    if (pv.ttl() <= 1) {
      icmp.sendError(w, pv, pv.isIpv6() ? 3 : 11, 0, 0, Counter.TIME_EXCEEDED_SENT);
      w.counts[Counter.DROP_TTL_EXPIRED.ordinal()]++;
      return;
    }
    WorkerEndpoint hop = h.nextHop;
    if (hop != null) {
      if (tunnel == null) {
        w.counts[Counter.DROP_NO_TUNNEL.ordinal()]++;
        return;
      }
      if (pv.length() > maxInner && pv.dontFragment()) {
        // An IPv4 packet without DF may go on: the tunnel's outer datagram is fragmented instead.
        icmp.sendError(w, pv, pv.isIpv6() ? 2 : 3, pv.isIpv6() ? 0 : 4, maxInner, Counter.PACKET_TOO_BIG_SENT);
        w.counts[Counter.DROP_TOO_BIG.ordinal()]++;
        return;
      }
      if (clampMss && pv.protocol() == TCP && (pv.tcpFlags() & 0x02) != 0 && pv.isFirstFragment()) {
        if (MssClamp.clamp(pv.buffer(), pv.l4Offset(), maxInner - (pv.isIpv6() ? 60 : 40))) {
          w.counts[Counter.MSS_CLAMPED.ordinal()]++;
        }
      }
    }
    if (pv.isFragment() && pv.isFirstFragment() && pv.moreFragments() && !trackFragment(w, h, pv)) {
      return;
    }
    rewrite(pv, h, true);
    touch(w, pv, h.flow, false);
    w.counts[Counter.TRANSLATED_OUT.ordinal()]++;
    ByteBuffer b = pv.buffer();
    int s = pv.start();
    int e = pv.end();
    if (hop != null) {
      b.limit(e).position(s);
      tunnel.send(hop, b);
      w.counts[Counter.SENT_TUNNEL.ordinal()]++;
      w.tunnelDirty = true;
    } else {
      ingress(w, b, s, e, null);
    }
  }

  // ---------------------------------------------------------------- ingress: from peers or looped back

  /**
   * A packet from {@code peer}, or looped back on this node ({@code peer} null). A peer's packet of
   * a known flow must come from the flow's next hop (else see {@link #fromOtherPeer}); a peer's first
   * packet for a local or held instance must have a source the peer owns ({@link SourceCheck}).
   */
  void ingress(ThreadScratch w, ByteBuffer b, int from, int to, WorkerEndpoint peer) {
    int found = lookup(w, b, from, to, Half.INGRESS, peer);
    if (found == CONSUMED) {
      return;
    }
    WorkerEndpoint back = null;
    if (peer != null && !w.bypassGate) {
      ReplayGate[] gs = gates.current();
      if (gs.length != 0) {
        int g = gates.gate(w, w.pv, peer, gs);
        if (g == ReplayGates.HELD) {
          return;
        }
        if (g == ReplayGates.REDO) {
          ingress(w, b, from, to, peer);
          return;
        }
        back = gates.wayBack(w.pv, peer, gs);
      }
    }
    if (peer != null && w.srcRoute == null && parking.parkBehind(w, w.pv, peer)) {
      return;
    }
    MigrationHolds mh = holds;
    Hold[] hs = mh.current();
    if (peer != null) {
      if (found == FOUND) {
        Flow f = w.found.flow;
        if (f.out.nextHop != peer && !fromOtherPeer(w, f, peer)) {
          return;
        }
      } else if (!admitted(w, w.pv, peer, hs)) {
        return;
      }
    }
    if (hs.length != 0 && mh.held(w, w.pv, hs, found == MISS ? peer : null)) {
      return;
    }
    if (found == FOUND) {
      if (back != null) {
        replyDirectly(w, w.found.flow, peer, back);
      }
      deliverIn(w, w.pv, w.found);
    } else if (peer == null || hs.length == 0 || !mh.relayed(w, w.pv, peer, hs)) {
      Half h = setup.learn(w, w.pv, back != null ? back : peer, now);
      if (h != null) {
        deliverIn(w, w.pv, h);
      }
    }
  }

  /**
   * A packet of flow {@code f} from a peer other than the flow's next hop (rare: the slow path).
   * A local client's flow takes replies only from the place the chosen instance's signed locator
   * names now, or from its previous place within the migration linger. A learned flow's way back
   * follows the peer its packets now come from only when the source's signed locator names that
   * peer (the sender moved there); the previous place of a migrated instance may still forward
   * within the linger, without taking the flow. Anything else is dropped and counted.
   */
  private boolean fromOtherPeer(ThreadScratch w, Flow f, WorkerEndpoint peer) {
    Half out = f.out;
    WorkerEndpoint hop = out.nextHop;
    if (SourceCheck.sameNode(hop, peer)) {
      return true;
    }
    if (f.client) {
      if (sources.mayAnswer(f, peer)) {
        return true;
      }
      w.counts[Counter.DROP_REPLY_NOT_NEXT_HOP.ordinal()]++;
      return false;
    }
    if (hop != null && sources.mayRoam(w.pv, peer)) {
      if (flows.replaceOut(f, out, out.withTarget(out.nDstHi, out.nDstLo, peer), true)) {
        w.counts[Counter.FLOWS_ROAMED.ordinal()]++;
      }
      return true;
    }
    if (hop != null && sources.relays(w.pv, peer)) {
      return true;
    }
    w.counts[Counter.DROP_ROAM_NOT_OWNED.ordinal()]++;
    return false;
  }

  /** Replies of a learned flow whose way back is the relaying {@code peer} go to {@code back} instead (see {@link ReplayGates#wayBack}). */
  private void replyDirectly(ThreadScratch w, Flow f, WorkerEndpoint peer, WorkerEndpoint back) {
    Half out = f.out;
    if (SourceCheck.sameNode(out.nextHop, peer) && flows.replaceOut(f, out, out.withTarget(out.nDstHi, out.nDstLo, back), true)) {
      w.counts[Counter.FLOWS_ROAMED.ordinal()]++;
    }
  }

  /**
   * A peer's packet that matched no flow: if it is for a local instance or one held here, the peer
   * must own its source (it may be parked while the source's route resolves). Other packets go on
   * to be answered route-not-found or relayed.
   */
  private boolean admitted(ThreadScratch w, PacketView pv, WorkerEndpoint peer, Hold[] hs) {
    boolean v6 = pv.isIpv6();
    InstanceRecord local = locals.byNamespaceIp(w.addresses.address(v6, pv.dstHi(), pv.dstLo()));
    if (local == null && !MigrationHolds.isHeld(hs, v6, pv.dstHi(), pv.dstLo())) {
      return true;
    }
    return sources.admitNew(w, pv, peer, local) == SourceCheck.ADMIT;
  }

  private void deliverIn(ThreadScratch w, PacketView pv, Half h) {
    if (pv.isFragment() && pv.isFirstFragment() && pv.moreFragments() && !trackFragment(w, h, pv)) {
      return;
    }
    if (h.sLo != h.nSrcLo || h.dLo != h.nDstLo || h.sHi != h.nSrcHi || h.dHi != h.nDstHi) {
      rewrite(pv, h, false);
    }
    touch(w, pv, h.flow, true);
    w.counts[Counter.TRANSLATED_IN.ordinal()]++;
    writeLocal(w, pv.buffer(), pv.start(), pv.end());
  }

  private void writeLocal(ThreadScratch w, ByteBuffer b, int s, int e) {
    b.limit(e).position(s);
    io.write(b);
    w.counts[Counter.DELIVERED_LOCAL.ordinal()]++;
    w.ioDirty = true;
  }

  /**
   * Sends an ICMP error that the {@link IcmpHandler} translated along its flow. From a peer, the
   * error must come from the flow's next hop, like a reply (a migrated instance's previous place
   * within the linger, or the new place its signed locator names, too; an error never moves a flow).
   */
  private void icmpError(ThreadScratch w, PacketView pv, int dir, WorkerEndpoint peer) {
    Half h = icmp.errorFlow(w, pv, dir);
    if (h == null) {
      return;
    }
    if (peer != null && dir == Half.INGRESS && !SourceCheck.sameNode(h.flow.out.nextHop, peer)) {
      Flow f = h.flow;
      boolean ok = f.client ? sources.mayAnswer(f, peer)
          : f.out.nextHop != null && (sources.mayRoam(pv, peer) || sources.relays(pv, peer));
      if (!ok) {
        w.counts[Counter.DROP_ICMP_NOT_NEXT_HOP.ordinal()]++;
        return;
      }
    }
    if (!icmp.translateError(w, pv, h, dir)) {
      return;
    }
    if (dir == Half.INGRESS && h.flow.client) {
      health.icmpError(w, h.flow, pv.isIpv6(), pv.icmpType(), pv.icmpCode(), now);
    }
    h.flow.lastSeen = now;
    ByteBuffer b = pv.buffer();
    int s = pv.start();
    if (dir != Half.EGRESS) {
      writeLocal(w, b, s, pv.end());
    } else if (h.nextHop != null) {
      b.limit(pv.end()).position(s);
      tunnel.send(h.nextHop, b);
      w.counts[Counter.SENT_TUNNEL.ordinal()]++;
      w.tunnelDirty = true;
    } else {
      ingress(w, b, s, pv.end(), null);
    }
  }

  // ---------------------------------------------------------------- per-packet flow work

  private static void rewrite(PacketView pv, Half h, boolean decrementTtl) {
    AddressRewriter.rewrite(pv, h.v6, h.proto, h.nSrcHi, h.nSrcLo, h.nDstHi, h.nDstLo, h.delta, decrementTtl);
  }

  /**
   * A packet's accounting on its flow: bytes (the flow's, which only this direction's thread
   * writes, and its tally's in this thread's slot), last-seen time, TCP flags, UDP health. No
   * atomic operation and no volatile write unless a TCP flag or a health state changes.
   */
  private void touch(ThreadScratch w, PacketView pv, Flow f, boolean inbound) {
    int len = pv.length();
    if (inbound) {
      f.bytesIn += len;
    } else {
      f.bytesOut += len;
    }
    ServiceTallies.Tally tally = f.tally;
    if (tally != null) {
      w.tallyBytes[tally.index] += len;
    }
    long t = now;
    if (f.lastSeen != t) {
      f.lastSeen = t;
    }
    if (f.proto == TCP && pv.isFirstFragment()) {
      int fl = pv.tcpFlags();
      if ((fl & 0x07) != 0) {
        tcpEvent(f, fl, inbound);
      }
    } else if (f.proto == UDP && f.health != null) {
      health.udp(f, f.health, inbound, t);
    }
  }

  private void tcpEvent(Flow f, int fl, boolean inbound) {
    if ((fl & 0x04) != 0) {
      f.addFlags(Flow.F_RST);
    }
    if ((fl & 0x01) != 0) {
      f.addFlags(inbound ? Flow.F_FIN_IN : Flow.F_FIN_OUT);
    }
    if ((fl & 0x12) == 0x12) {
      f.addFlags(Flow.F_SYNACK);
      long syn = f.synNanos;
      if (inbound && f.client && syn != 0) {
        f.synNanos = 0;
        view.recordSetupLatency(f.instance, System.nanoTime() - syn);
        health.synAnswered(f.health);
      }
    }
  }

  /**
   * IPv4 fragments and IPv6 fragment headers are tracked by identification, not reassembled: the
   * first fragment carries the ports and finds the flow; an entry keyed by (addresses, protocol,
   * identification) then maps the later fragments to the same rewrite, so every fragment is
   * translated in place and forwarded at once. Later fragments that overtake the first are dropped.
   * Entries are bounded in total and per flow: past a cap the datagram is dropped (false, counted).
   */
  private boolean trackFragment(ThreadScratch w, Half h, PacketView pv) {
    long id = pv.fragmentId();
    if (table.find(h.dir + Half.FRAGMENT, h.v6, h.proto, h.sHi, h.sLo, h.dHi, h.dLo, (int) (id >>> 16), (int) (id & 0xffff)) == null
        && !flows.insertFragment(h.fragmentEntry(id, now))) {
      w.counts[Counter.DROP_FRAGMENT_LIMIT.ordinal()]++;
      return false;
    }
    return true;
  }

  private Half findFragment(PacketView pv, int dir) {
    long id = pv.fragmentId();
    return table.find(dir + Half.FRAGMENT, pv.isIpv6(), pv.protocol(), pv.srcHi(), pv.srcLo(), pv.dstHi(), pv.dstLo(),
        (int) (id >>> 16), (int) (id & 0xffff));
  }
}
