package io.semnet.proxy;

import io.semnet.core.address.InstanceIp;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.node.LocalInstances;
import io.semnet.core.node.NodeContext;
import io.semnet.core.node.PacketIo;
import io.semnet.core.node.PacketTranslator;
import io.semnet.core.node.RouteResolver;
import io.semnet.core.node.Tunnel;
import io.semnet.core.policy.CandidateSet;
import io.semnet.core.policy.InstanceSelector;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.policy.RoutingPolicyRegistry;
import io.semnet.core.record.InstanceKey;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.Resolution;
import io.semnet.core.route.Route;
import io.semnet.core.route.RouteListener;
import io.semnet.core.service.ServiceId;
import io.semnet.proxy.packet.Checksums;
import io.semnet.proxy.packet.PacketView;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's packet translator: turns packets from local instances (read from the TUN) addressed
 * to ServiceIPs and InstanceIPs into packets between InstanceIP and namespace IP, sends them to the
 * peer hosting the chosen instance (or back into the TUN for a local one), and reverses the
 * translation for replies so a client sees answers from the address it contacted.
 *
 * <p>Guarantees: a flow keeps its chosen instance for its life (unless told the instance moved);
 * established-flow translation is lock-free and allocates nothing; checksums are updated
 * incrementally (RFC 1624); a route miss never blocks the data path (the first packets are
 * parked, bounded, while the resolver answers); malformed packets are counted and dropped, never
 * thrown on. Packets are sent from the thread that delivered them, and from resolver threads when
 * parked packets are released, so the {@link Tunnel} and {@link PacketIo} must accept sends from
 * several threads.
 *
 * <pre>{@code
 * SemnetTranslator translator = SemnetTranslator.builder().maxFlows(100_000).underlayMtu(1500).build();
 * SemnetNode node = SemnetNode.builder("w1").translator(translator).packetIo(tun).resolver(r).tunnel(t).build();
 * }</pre>
 */
public final class SemnetTranslator implements PacketTranslator {
  private static final Logger log = LoggerFactory.getLogger(SemnetTranslator.class);
  private static final Counter[] COUNTERS = Counter.values();
  private static final Counter[] PARSE_DROPS = {
    null, Counter.DROP_TRUNCATED, Counter.DROP_BAD_VERSION, Counter.DROP_BAD_IHL, Counter.DROP_BAD_LENGTH,
    Counter.DROP_UNSUPPORTED_PROTOCOL
  };
  /** Checksum difference of decrementing the TTL by one (the TTL/protocol word loses 0x0100). */
  private static final int TTL_DELTA = 0xfeff;
  private static final int TCP = PacketView.PROTO_TCP;
  private static final int UDP = PacketView.PROTO_UDP;
  private static final int ICMP = PacketView.PROTO_ICMP;
  private static final int ICMPV6 = PacketView.PROTO_ICMPV6;
  /** Held packets replayed per millisecond after a release. */
  private static final int REPLAY_BATCH = 64;
  /** Longest a release waits for the tunnel link to the new place before replaying anyway. */
  private static final long READY_WAIT_NANOS = 2_000_000_000L;

  private final int maxFlows;
  private final int parkedPerFlow;
  private final int maxParked;
  private final long parkTimeoutMs;
  private final long tcpEstablishedMs;
  private final long tcpTransitoryMs;
  private final long tcpClosingMs;
  private final long udpMs;
  private final long icmpMs;
  private final long fragmentMs;
  private final long sweepMs;
  private final int underlayMtu;
  private final int tunnelOverheadOverride;
  private final boolean ipv6Underlay;
  private final boolean clampMss;
  private final int holdPackets;
  private final int holdBytes;
  private final boolean holdBuffering;
  private final long holdLingerNanos;

  private final FlowTable table;
  private final CopyOnWriteArrayList<Worker> workers = new CopyOnWriteArrayList<>();
  private final ThreadLocal<Worker> worker = ThreadLocal.withInitial(this::newWorker);
  private final ConcurrentHashMap<InetAddress, Selector> selectors = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<InetAddress, Pending> pending = new ConcurrentHashMap<>();
  private final AtomicInteger parkedTotal = new AtomicInteger();
  private final AtomicLong generations = new AtomicLong();
  private final RouteListener listener = new Listener();
  private final LocalInstances.Listener homeListener = new HomeListener();
  private final Worker noWorker = new Worker(null);
  private volatile Worker lastTunWorker = noWorker;
  private volatile Worker lastTunnelWorker = noWorker;
  /** Instances migrating away from this node; copy-on-write, empty in the common case. */
  private volatile Hold[] holds = new Hold[0];
  /** FIFO buffers of finished holds, reused by the next freeze (guarded by itself). */
  private final ArrayDeque<ByteBuffer> holdPool = new ArrayDeque<>();
  private int flowCount;
  private int evictCursor;

  private volatile long now = clock();
  private volatile boolean started;
  private PacketIo io;
  private Tunnel tunnel;
  private RouteResolver resolver;
  private LocalInstances locals;
  private LocalNodeView view;
  private RoutingPolicyRegistry policies;
  private int maxInner = Integer.MAX_VALUE;
  private ScheduledExecutorService control;
  private String nodeId;

  private SemnetTranslator(Builder b) {
    this.maxFlows = b.maxFlows;
    this.parkedPerFlow = b.parkedPerFlow;
    this.maxParked = b.maxParked;
    this.parkTimeoutMs = b.parkTimeout.toMillis();
    this.tcpEstablishedMs = b.tcpEstablished.toMillis();
    this.tcpTransitoryMs = b.tcpTransitory.toMillis();
    this.tcpClosingMs = b.tcpClosing.toMillis();
    this.udpMs = b.udp.toMillis();
    this.icmpMs = b.icmp.toMillis();
    this.fragmentMs = b.fragment.toMillis();
    this.sweepMs = b.sweepInterval.toMillis();
    this.underlayMtu = b.underlayMtu;
    this.tunnelOverheadOverride = b.tunnelOverhead;
    this.ipv6Underlay = b.ipv6Underlay;
    this.clampMss = b.clampMss;
    this.holdPackets = b.holdPackets;
    this.holdBytes = b.holdBytes;
    this.holdBuffering = b.holdBuffering;
    this.holdLingerNanos = b.holdLinger.toNanos();
    this.table = new FlowTable(maxFlows * 2);
  }

  public static Builder builder() {
    return new Builder();
  }

  // ---------------------------------------------------------------- lifecycle

  @Override
  public void start(NodeContext context) {
    Objects.requireNonNull(context, "context");
    if (context.packetIo() == null) {
      throw new IllegalStateException("the translator needs packet I/O (a TUN device)");
    }
    if (context.resolver() == null) {
      throw new IllegalStateException("the translator needs a route resolver");
    }
    this.io = context.packetIo();
    this.nodeId = context.nodeId();
    this.tunnel = context.tunnel();
    this.resolver = context.resolver();
    this.locals = context.localInstances();
    this.view = context.view();
    this.policies = context.policies();
    int overhead = tunnelOverheadOverride >= 0 ? tunnelOverheadOverride
        : tunnel != null ? tunnel.overheadBytes(ipv6Underlay) : 0;
    this.maxInner = underlayMtu - overhead;
    resolver.addListener(listener);
    locals.addListener(homeListener);
    control = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "semnet-translator-" + context.nodeId());
      t.setDaemon(true);
      return t;
    });
    control.scheduleWithFixedDelay(this::sweep, sweepMs, sweepMs, TimeUnit.MILLISECONDS);
    started = true;
    log.debug("translator of {} started: largest inner packet {} bytes, {} flows max", context.nodeId(), maxInner, maxFlows);
  }

  @Override
  public void close() {
    if (!started) {
      return;
    }
    started = false;
    resolver.removeListener(listener);
    locals.removeListener(homeListener);
    control.shutdownNow();
    clearFlows();
  }

  // ---------------------------------------------------------------- public observation

  /** The value of one counter (summed over data-path threads; eventually consistent). */
  public long counter(Counter c) {
    long n = 0;
    for (Worker w : workers) {
      n += w.counts[c.ordinal()];
    }
    return n;
  }

  /** A snapshot of all counters. */
  public Map<Counter, Long> counters() {
    Map<Counter, Long> m = new EnumMap<>(Counter.class);
    for (Counter c : COUNTERS) {
      m.put(c, counter(c));
    }
    return m;
  }

  /** Total packets dropped, over all reasons. */
  public long drops() {
    long n = 0;
    for (Counter c : COUNTERS) {
      if (c.isDrop()) {
        n += counter(c);
      }
    }
    return n;
  }

  /** Flows in the conversion table. */
  public int flowCount() {
    synchronized (table) {
      return flowCount;
    }
  }

  /** Packets parked waiting for routes. */
  public int parkedCount() {
    return parkedTotal.get();
  }

  /** The largest inner packet the tunnel carries (underlay MTU minus overhead). */
  public int maxInnerPacket() {
    return maxInner;
  }

  /** Forgets every flow (e.g. after the node's addresses were reset). */
  public void clearFlows() {
    List<Flow> closed = new ArrayList<>();
    synchronized (table) {
      for (int i = 0; i < table.bucketCount(); i++) {
        table.forEachIn(i, h -> {
          if (h.dir == Half.EGRESS && !h.flow.removed) {
            h.flow.removed = true;
            closed.add(h.flow);
          }
        });
      }
      table.clear();
      flowCount = 0;
    }
    for (Flow f : closed) {
      if (f.client) {
        view.flowClosed(f.instance);
      }
    }
  }

  // ---------------------------------------------------------------- data path entry points

  @Override
  public void onPacket(ByteBuffer packet) {
    Worker w = tunWorker();
    egress(w, packet, packet.position(), packet.limit(), null);
  }

  @Override
  public void onPacketBatchEnd() {
    now = clock();
    flush(tunWorker());
  }

  @Override
  public void onData(WorkerEndpoint from, ByteBuffer packet) {
    Worker w = tunnelWorker();
    ingress(w, packet, packet.position(), packet.limit(), from);
  }

  @Override
  public void onTunnelBatchEnd() {
    now = clock();
    flush(tunnelWorker());
  }

  /**
   * The worker of the thread reading the TUN. Each entry point is normally driven by one thread,
   * so its worker is remembered next to the thread and the ThreadLocal is only consulted when
   * the thread changes.
   */
  private Worker tunWorker() {
    Worker w = lastTunWorker;
    if (w.thread != Thread.currentThread()) {
      w = worker.get();
      lastTunWorker = w;
    }
    return w;
  }

  private Worker tunnelWorker() {
    Worker w = lastTunnelWorker;
    if (w.thread != Thread.currentThread()) {
      w = worker.get();
      lastTunnelWorker = w;
    }
    return w;
  }

  @Override
  public void onRouteNotFound(WorkerEndpoint from, InetAddress namespaceIp) {
    worker.get().counts[Counter.ROUTE_NOT_FOUND_RECEIVED.ordinal()]++;
    ScheduledExecutorService c = control;
    if (c != null && !c.isShutdown()) {
      c.execute(() -> reresolveFlowsTo(from, namespaceIp));
    }
  }

  private void flush(Worker w) {
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

  private void egress(Worker w, ByteBuffer b, int from, int to, Route known) {
    switch (lookup(w, b, from, to, Half.EGRESS, null)) {
      case FOUND:
        forwardOut(w, w.pv, w.found);
        break;
      case MISS:
        newFlow(w, w.pv, known);
        break;
      default:
        break;
    }
  }

  /**
   * Parses a packet travelling in {@code direction} and finds its flow half. Malformed packets,
   * ICMP other than echo and errors, and orphan fragments are counted and consumed here; ICMP
   * errors are translated here. On {@link #FOUND} the half is in {@code w.found}.
   */
  private int lookup(Worker w, ByteBuffer b, int from, int to, int direction, WorkerEndpoint peer) {
    PacketView pv = w.pv;
    int st = pv.parse(b, from, to);
    if (st != 0) {
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

  private void forwardOut(Worker w, PacketView pv, Half h) {
    if (pv.ttl() <= 1) {
      sendIcmp(w, pv, pv.isIpv6() ? 3 : 11, 0, 0, Counter.TIME_EXCEEDED_SENT);
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
        sendIcmp(w, pv, pv.isIpv6() ? 2 : 3, pv.isIpv6() ? 0 : 4, maxInner, Counter.PACKET_TOO_BIG_SENT);
        w.counts[Counter.DROP_TOO_BIG.ordinal()]++;
        return;
      }
      if (clampMss && pv.protocol() == TCP && (pv.tcpFlags() & 0x02) != 0 && pv.isFirstFragment()) {
        clampMss(w, pv);
      }
    }
    if (pv.isFragment() && pv.isFirstFragment() && pv.moreFragments()) {
      trackFragment(h, pv);
    }
    rewrite(pv, h, true);
    touch(pv, h.flow, false);
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

  private void newFlow(Worker w, PacketView pv, Route known) {
    boolean v6 = pv.isIpv6();
    InetAddress src = addr(v6, pv.srcHi(), pv.srcLo());
    InstanceRecord sender = locals.byNamespaceIp(src);
    if (sender == null) {
      w.counts[Counter.DROP_UNKNOWN_SOURCE.ordinal()]++;
      return;
    }
    InstanceIp senderIp = sender.instanceIp(!v6);
    if (senderIp == null) {
      w.counts[Counter.DROP_NO_INSTANCE_IP.ordinal()]++;
      return;
    }
    InetAddress dst = addr(v6, pv.dstHi(), pv.dstLo());
    Route route = known != null ? known : resolver.cached(dst);
    if (route == null) {
      park(w, pv, dst);
      return;
    }
    if (!resolver.isolationRules().mayReach(sender.service(), route.target().service())) {
      sendIcmp(w, pv, v6 ? 1 : 3, v6 ? 1 : 13, 0, Counter.ADMIN_PROHIBITED_SENT);
      w.counts[Counter.DROP_NOT_PERMITTED.ordinal()]++;
      return;
    }
    InstanceRecord chosen = choose(route, dst, v6, pv);
    InstanceIp chosenIp = chosen == null ? null : chosen.instanceIp(!v6);
    if (chosenIp == null) {
      unreachable(w, pv);
      return;
    }
    InetAddress target = chosen.locator().namespaceIp(!v6);
    WorkerEndpoint hop = nextHop(target, chosen.locator());
    int proto = pv.protocol();
    long t = now;
    Flow f = new Flow(true, proto, chosen.key(), dst, t);
    if (proto == TCP && (pv.tcpFlags() & 0x12) == 0x02) {
      f.synNanos = System.nanoTime();
    }
    long siHi = hi(senderIp.address());
    long siLo = lo(senderIp.address());
    f.out = new Half(Half.EGRESS, v6, proto, pv.srcHi(), pv.srcLo(), pv.dstHi(), pv.dstLo(), pv.srcPort(), pv.dstPort(),
        siHi, siLo, hi(target), lo(target), hop, f, t);
    f.in = new Half(Half.INGRESS, v6, proto, hi(chosenIp.address()), lo(chosenIp.address()), siHi, siLo,
        pv.dstPort(), pv.srcPort(), pv.dstHi(), pv.dstLo(), pv.srcHi(), pv.srcLo(), null, f, t);
    if (!insertFlow(w, f)) {
      w.counts[Counter.DROP_FLOW_COLLISION.ordinal()]++;
      return;
    }
    view.flowOpened(chosen.key());
    w.counts[Counter.FLOWS_CREATED.ordinal()]++;
    forwardOut(w, pv, f.out);
  }

  /**
   * Where packets for an instance at {@code target} go: nowhere (this node) if it is a local
   * instance, or if its locator still names this node (it is frozen here, migrating away: the hold
   * takes its packets), else its worker.
   */
  private WorkerEndpoint nextHop(InetAddress target, Locator at) {
    WorkerEndpoint w = at.worker();
    return locals.byNamespaceIp(target) != null || w.nodeId().equals(nodeId) ? null : w;
  }

  private InstanceRecord choose(Route route, InetAddress dst, boolean v6, PacketView pv) {
    if (!route.isServiceIp()) {
      InstanceRecord r = route.instance();
      return r != null && r.reachableOver(!v6) ? r : null;
    }
    Selector s = selectors.get(dst);
    if (s == null || !s.policy.equals(route.policy())) {
      RoutingPolicyRegistry reg = policies;
      if (reg == null || !reg.contains(route.policy())) {
        log.warn("no routing policy '{}' for {}", route.policy(), dst);
        return null;
      }
      s = new Selector(route.policy(), reg.policy(route.policy()).newSelector());
      selectors.put(dst, s);
    }
    Candidates c = s.candidates;
    if (c == null || c.record != route.record()) {
      c = new Candidates(route.record(), !v6, generations.incrementAndGet());
      s.candidates = c;
    }
    if (c.size() == 0) {
      return null;
    }
    long key = pv.srcHi() * 0x9E3779B97F4A7C15L ^ pv.srcLo() * 0xC2B2AE3D27D4EB4FL;
    int i = s.selector.select(c, key ^ (key >>> 29), view);
    return i < 0 || i >= c.size() ? null : c.get(i);
  }

  private void unreachable(Worker w, PacketView pv) {
    sendIcmp(w, pv, pv.isIpv6() ? 1 : 3, pv.isIpv6() ? 3 : 1, 0, Counter.UNREACHABLE_SENT);
    w.counts[Counter.DROP_NO_ROUTE.ordinal()]++;
  }

  // ---------------------------------------------------------------- ingress: from peers or looped back

  private void ingress(Worker w, ByteBuffer b, int from, int to, WorkerEndpoint peer) {
    int found = lookup(w, b, from, to, Half.INGRESS, peer);
    if (found == CONSUMED) {
      return;
    }
    Hold[] hs = holds;
    if (hs.length != 0 && held(w, w.pv, hs, found == MISS ? peer : null)) {
      return;
    }
    if (found == FOUND) {
      Half h = w.found;
      if (peer != null && !h.flow.client) {
        roam(w, h.flow, peer);
      }
      deliverIn(w, w.pv, h);
    } else if (peer == null || hs.length == 0 || !relayed(w, w.pv, peer, hs)) {
      learn(w, w.pv, peer);
    }
  }

  /**
   * A learned flow's way back follows the peer its packets now come from: after a migration the
   * first packets of a flow may reach the new node through the old one (held and replayed), later
   * ones straight from the sender once it applied the new locator, and replies must go where the
   * conversation currently comes from. Peers are authenticated by the tunnel.
   */
  private void roam(Worker w, Flow f, WorkerEndpoint peer) {
    Half out = f.out;
    WorkerEndpoint hop = out.nextHop;
    if (hop == peer || hop == null || hop.equals(peer)) {
      return;
    }
    synchronized (table) {
      if (f.removed || f.out != out) {
        return;
      }
      Half n = out.withTarget(out.nDstHi, out.nDstLo, peer);
      table.replace(out, n);
      f.out = n;
    }
    w.counts[Counter.FLOWS_ROAMED.ordinal()]++;
  }

  private void deliverIn(Worker w, PacketView pv, Half h) {
    if (pv.isFragment() && pv.isFirstFragment() && pv.moreFragments()) {
      trackFragment(h, pv);
    }
    if (h.sLo != h.nSrcLo || h.dLo != h.nDstLo || h.sHi != h.nSrcHi || h.dHi != h.nDstHi) {
      rewrite(pv, h, false);
    }
    touch(pv, h.flow, true);
    w.counts[Counter.TRANSLATED_IN.ordinal()]++;
    writeLocal(w, pv.buffer(), pv.start(), pv.end());
  }

  private void writeLocal(Worker w, ByteBuffer b, int s, int e) {
    b.limit(e).position(s);
    io.write(b);
    w.counts[Counter.DELIVERED_LOCAL.ordinal()]++;
    w.ioDirty = true;
  }

  /** First packet of a flow arriving for a local instance: remember the way back. */
  private void learn(Worker w, PacketView pv, WorkerEndpoint peer) {
    boolean v6 = pv.isIpv6();
    InetAddress dst = addr(v6, pv.dstHi(), pv.dstLo());
    InstanceRecord local = locals.byNamespaceIp(dst);
    if (local == null) {
      if (isLocalInstanceIp(dst)) {
        w.counts[Counter.DROP_NO_FLOW.ordinal()]++;
        return;
      }
      if (peer != null && tunnel != null) {
        tunnel.sendRouteNotFound(peer, dst);
        w.counts[Counter.ROUTE_NOT_FOUND_SENT.ordinal()]++;
      }
      w.counts[Counter.DROP_NO_LOCAL_INSTANCE.ordinal()]++;
      return;
    }
    InstanceIp own = local.instanceIp(!v6);
    if (own == null) {
      w.counts[Counter.DROP_NO_INSTANCE_IP.ordinal()]++;
      return;
    }
    Flow f = learnFlow(w, pv, peer, own);
    if (f != null) {
      deliverIn(w, pv, f.in);
    }
  }

  /** Records a learned flow for a packet from {@code peer} to a local instance whose InstanceIP is {@code own}; null on a collision. */
  private Flow learnFlow(Worker w, PacketView pv, WorkerEndpoint peer, InstanceIp own) {
    boolean v6 = pv.isIpv6();
    int proto = pv.protocol();
    long t = now;
    Flow f = new Flow(false, proto, null, null, t);
    f.in = new Half(Half.INGRESS, v6, proto, pv.srcHi(), pv.srcLo(), pv.dstHi(), pv.dstLo(), pv.srcPort(), pv.dstPort(),
        pv.srcHi(), pv.srcLo(), pv.dstHi(), pv.dstLo(), null, f, t);
    f.out = new Half(Half.EGRESS, v6, proto, pv.dstHi(), pv.dstLo(), pv.srcHi(), pv.srcLo(), pv.dstPort(), pv.srcPort(),
        hi(own.address()), lo(own.address()), pv.srcHi(), pv.srcLo(), peer, f, t);
    if (!insertFlow(w, f)) {
      w.counts[Counter.DROP_FLOW_COLLISION.ordinal()]++;
      return null;
    }
    w.counts[Counter.FLOWS_LEARNED.ordinal()]++;
    return f;
  }

  private boolean isLocalInstanceIp(InetAddress a) {
    for (InstanceRecord r : locals.all()) {
      if ((r.instanceIpv4() != null && r.instanceIpv4().address().equals(a))
          || (r.instanceIpv6() != null && r.instanceIpv6().address().equals(a))) {
        return true;
      }
    }
    return false;
  }

  // ---------------------------------------------------------------- rewriting

  private static void rewrite(PacketView pv, Half h, boolean decrementTtl) {
    rewrite(pv, h.v6, h.proto, h.nSrcHi, h.nSrcLo, h.nDstHi, h.nDstLo, h.delta, decrementTtl);
  }

  /** Writes new addresses into a parsed packet and adjusts its checksums by {@code d} (their difference). */
  private static void rewrite(PacketView pv, boolean v6, int proto, long nSrcHi, long nSrcLo, long nDstHi, long nDstLo,
      int d, boolean decrementTtl) {
    ByteBuffer b = pv.buffer();
    int s = pv.start();
    if (!v6) {
      b.putInt(s + 12, (int) nSrcLo);
      b.putInt(s + 16, (int) nDstLo);
      int ipd = d;
      if (decrementTtl) {
        b.put(s + 8, (byte) (b.get(s + 8) - 1));
        ipd = Checksums.add(d, TTL_DELTA);
      }
      Checksums.adjustAt(b, s + 10, ipd);
    } else {
      putAddresses(b, s, true, nSrcHi, nSrcLo, nDstHi, nDstLo);
      if (decrementTtl) {
        b.put(s + 7, (byte) (b.get(s + 7) - 1));
      }
    }
    if (pv.isFirstFragment()) {
      int l4 = pv.l4Offset();
      switch (proto) {
        case TCP:
          Checksums.adjustAt(b, l4 + 16, d);
          break;
        case UDP:
          Checksums.adjustUdpAt(b, l4 + 6, d);
          break;
        case ICMPV6:
          Checksums.adjustAt(b, l4 + 2, d);
          break;
        default:
          break; // ICMPv4 has no pseudo-header
      }
    }
  }

  private void touch(PacketView pv, Flow f, boolean inbound) {
    long t = now;
    if (f.lastSeen != t) {
      f.lastSeen = t;
    }
    if (f.proto == TCP && pv.isFirstFragment()) {
      int fl = pv.tcpFlags();
      if ((fl & 0x07) != 0) {
        tcpEvent(f, fl, inbound);
      }
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
      }
    }
  }

  private void clampMss(Worker w, PacketView pv) {
    ByteBuffer b = pv.buffer();
    int l4 = pv.l4Offset();
    int max = maxInner - (pv.isIpv6() ? 60 : 40);
    int end = l4 + (((b.get(l4 + 12) & 0xff) >>> 4) << 2);
    int i = l4 + 20;
    while (i < end) {
      int kind = b.get(i) & 0xff;
      if (kind == 0) {
        return;
      }
      if (kind == 1) {
        i++;
        continue;
      }
      if (i + 1 >= end) {
        return;
      }
      int len = b.get(i + 1) & 0xff;
      if (len < 2 || i + len > end) {
        return;
      }
      if (kind == 2 && len == 4) {
        int mss = b.getShort(i + 2) & 0xffff;
        if (mss > max && max > 0) {
          int at = i + 2;
          int delta;
          if (((at - l4) & 1) == 0) {
            b.putShort(at, (short) max);
            delta = Checksums.wordDelta(mss, max);
          } else {
            // The value straddles two checksum words; take the difference over both.
            int o1 = b.getShort(at - 1) & 0xffff;
            int o2 = b.getShort(at + 1) & 0xffff;
            b.putShort(at, (short) max);
            delta = Checksums.add(Checksums.wordDelta(o1, b.getShort(at - 1) & 0xffff),
                Checksums.wordDelta(o2, b.getShort(at + 1) & 0xffff));
          }
          Checksums.adjustAt(b, l4 + 16, delta);
          w.counts[Counter.MSS_CLAMPED.ordinal()]++;
        }
        return;
      }
      i += len;
    }
  }

  // ---------------------------------------------------------------- fragments

  /**
   * IPv4 fragments and IPv6 fragment headers are tracked by identification, not reassembled: the
   * first fragment carries the ports and finds the flow; an entry keyed by (addresses, protocol,
   * identification) then maps the later fragments to the same rewrite, so every fragment is
   * translated in place and forwarded at once. Later fragments that overtake the first are dropped.
   */
  private void trackFragment(Half h, PacketView pv) {
    long id = pv.fragmentId();
    if (table.find(h.dir + Half.FRAGMENT, h.v6, h.proto, h.sHi, h.sLo, h.dHi, h.dLo, (int) (id >>> 16), (int) (id & 0xffff)) == null) {
      table.insert(h.fragmentEntry(id, now));
    }
  }

  private Half findFragment(PacketView pv, int dir) {
    long id = pv.fragmentId();
    return table.find(dir + Half.FRAGMENT, pv.isIpv6(), pv.protocol(), pv.srcHi(), pv.srcLo(), pv.dstHi(), pv.dstLo(),
        (int) (id >>> 16), (int) (id & 0xffff));
  }

  // ---------------------------------------------------------------- ICMP

  /**
   * Translates an ICMP error whose embedded packet belongs to a flow: the embedded header is the
   * reverse direction of the flow the error travels on, so it is rewritten with the flow's
   * addresses swapped (and its IPv4 header and transport checksums adjusted), the outer header like
   * any packet of the flow, and the ICMP checksum recomputed over the changed payload.
   */
  private void icmpError(Worker w, PacketView pv, int dir, WorkerEndpoint peer) {
    PacketView in = w.inner;
    ByteBuffer b = pv.buffer();
    int st = in.parseEmbedded(b, pv.l4Offset() + 8, pv.end());
    if (st != 0 || in.isIpv6() != pv.isIpv6() || !in.isFirstFragment()) {
      w.counts[Counter.DROP_ICMP_NO_FLOW.ordinal()]++;
      return;
    }
    boolean v6 = pv.isIpv6();
    Half h = table.find(dir, v6, in.protocol(), in.dstHi(), in.dstLo(), in.srcHi(), in.srcLo(), in.dstPort(), in.srcPort());
    if (h == null) {
      w.counts[Counter.DROP_ICMP_NO_FLOW.ordinal()]++;
      return;
    }
    boolean egress = dir == Half.EGRESS;
    if (egress && pv.ttl() <= 1) {
      w.counts[Counter.DROP_TTL_EXPIRED.ordinal()]++;
      return;
    }
    if (egress && h.nextHop != null && tunnel == null) {
      w.counts[Counter.DROP_NO_TUNNEL.ordinal()]++;
      return;
    }
    int is = in.start();
    int innerDelta = Half.addressDelta(v6, in.srcHi(), in.srcLo(), in.dstHi(), in.dstLo(), h.nDstHi, h.nDstLo, h.nSrcHi, h.nSrcLo);
    putAddresses(b, is, v6, h.nDstHi, h.nDstLo, h.nSrcHi, h.nSrcLo);
    if (!v6) {
      Checksums.adjustAt(b, is + 10, innerDelta);
    }
    int il4 = in.l4Offset();
    int ie = in.end();
    if (in.protocol() == TCP && il4 + 18 <= ie) {
      Checksums.adjustAt(b, il4 + 16, innerDelta);
    } else if (in.protocol() == UDP && il4 + 8 <= ie) {
      Checksums.adjustUdpAt(b, il4 + 6, innerDelta);
    } else if (in.protocol() == ICMPV6 && il4 + 4 <= ie) {
      Checksums.adjustAt(b, il4 + 2, innerDelta);
    }
    int s = pv.start();
    int outerDelta = Half.addressDelta(v6, pv.srcHi(), pv.srcLo(), pv.dstHi(), pv.dstLo(), h.nSrcHi, h.nSrcLo, h.nDstHi, h.nDstLo);
    putAddresses(b, s, v6, h.nSrcHi, h.nSrcLo, h.nDstHi, h.nDstLo);
    if (!v6) {
      if (egress) {
        b.put(s + 8, (byte) (b.get(s + 8) - 1));
        outerDelta = Checksums.add(outerDelta, TTL_DELTA);
      }
      Checksums.adjustAt(b, s + 10, outerDelta);
    } else if (egress) {
      b.put(s + 7, (byte) (b.get(s + 7) - 1));
    }
    int l4 = pv.l4Offset();
    int icmpLen = pv.end() - l4;
    b.putShort(l4 + 2, (short) 0);
    long sum = Checksums.sum(b, l4, icmpLen, 0);
    if (v6) {
      sum = Checksums.sum(b, s + 8, 32, sum) + icmpLen + ICMPV6;
    }
    b.putShort(l4 + 2, (short) Checksums.finish(sum));
    w.counts[Counter.ICMP_ERRORS_TRANSLATED.ordinal()]++;
    h.flow.lastSeen = now;
    if (!egress) {
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

  private static void putAddresses(ByteBuffer b, int s, boolean v6, long srcHi, long srcLo, long dstHi, long dstLo) {
    if (v6) {
      b.putLong(s + 8, srcHi);
      b.putLong(s + 16, srcLo);
      b.putLong(s + 24, dstHi);
      b.putLong(s + 32, dstLo);
    } else {
      b.putInt(s + 12, (int) srcLo);
      b.putInt(s + 16, (int) dstLo);
    }
  }

  /**
   * Answers the sender of {@code pv} (a local instance) with an ICMP/ICMPv6 error from the address
   * it sent to, quoting as much of the packet as fits in 576 (IPv4) or 1280 (IPv6) bytes. Never
   * answers an ICMP error or a later fragment (RFC 1122, RFC 4443).
   */
  private void sendIcmp(Worker w, PacketView pv, int type, int code, int mtu, Counter counter) {
    if (pv.isIcmpError() || !pv.isFirstFragment()) {
      return;
    }
    ByteBuffer o = w.scratch;
    ByteBuffer b = pv.buffer();
    int s = pv.start();
    int total;
    o.clear();
    if (!pv.isIpv6()) {
      int quote = Math.min(pv.length(), 576 - 28);
      total = 28 + quote;
      o.putLong(0, 0x4500000000000000L | ((long) total << 32));
      o.putInt(8, 0x40010000); // TTL 64, protocol ICMP, checksum 0
      o.putInt(12, (int) pv.dstLo());
      o.putInt(16, (int) pv.srcLo());
      o.putShort(10, (short) Checksums.finish(Checksums.sum(o, 0, 20, 0)));
      o.putInt(20, (type << 24) | (code << 16));
      o.putInt(24, mtu & 0xffff);
      o.put(28, b, s, quote);
      o.putShort(22, (short) Checksums.finish(Checksums.sum(o, 20, 8 + quote, 0)));
    } else {
      int quote = Math.min(pv.length(), 1280 - 48);
      total = 48 + quote;
      o.putInt(0, 0x60000000);
      o.putShort(4, (short) (8 + quote));
      o.put(6, (byte) ICMPV6);
      o.put(7, (byte) 64);
      putAddresses(o, 0, true, pv.dstHi(), pv.dstLo(), pv.srcHi(), pv.srcLo());
      o.putInt(40, (type << 24) | (code << 16));
      o.putInt(44, mtu);
      o.put(48, b, s, quote);
      long sum = Checksums.sum(o, 8, 32, 0) + 8 + quote + ICMPV6;
      o.putShort(42, (short) Checksums.finish(Checksums.sum(o, 40, 8 + quote, sum)));
    }
    o.limit(total).position(0);
    io.write(o);
    w.ioDirty = true;
    w.counts[counter.ordinal()]++;
  }

  // ---------------------------------------------------------------- flows

  private boolean insertFlow(Worker w, Flow f) {
    synchronized (table) {
      if (flowCount >= maxFlows) {
        evictOne(w);
      }
      // A key already taken belongs to an older conversation that replies can no longer be told
      // apart from (e.g. one UDP socket reaching one instance through its ServiceIP and its
      // InstanceIP): the newest flow wins, as replies most likely answer the latest request.
      for (Half h : new Half[] {f.out, f.in}) {
        Half existing = table.insert(h);
        if (existing != null) {
          removeFlow(existing.flow);
          w.counts[Counter.FLOWS_SUPERSEDED.ordinal()]++;
          if (table.insert(h) != null) {
            if (h == f.in) {
              table.remove(f.out);
            }
            return false;
          }
        }
      }
      flowCount++;
      return true;
    }
  }

  /** Evicts the least recently used flow among a sample of buckets (bounded work per insert). */
  private void evictOne(Worker w) {
    Flow victim = null;
    int seen = 0;
    for (int probe = 0; probe < table.bucketCount() && seen < 32; probe++) {
      evictCursor = (evictCursor + 1) & (table.bucketCount() - 1);
      for (Half h = table.head(evictCursor); h != null; h = h.next) {
        if (h.dir == Half.EGRESS) {
          seen++;
          if (victim == null || h.flow.lastSeen < victim.lastSeen) {
            victim = h.flow;
          }
        }
      }
    }
    if (victim != null) {
      removeFlow(victim);
      w.counts[Counter.FLOWS_EVICTED.ordinal()]++;
    }
  }

  private void removeFlow(Flow f) {
    synchronized (table) {
      if (f.removed) {
        return;
      }
      f.removed = true;
      table.remove(f.out);
      table.remove(f.in);
      flowCount--;
    }
    if (f.client) {
      view.flowClosed(f.instance);
    }
  }

  private boolean expired(Flow f, long t) {
    long idle = t - f.lastSeen;
    switch (f.proto) {
      case TCP: {
        int fl = f.flags;
        if ((fl & Flow.F_RST) != 0 || (fl & (Flow.F_FIN_IN | Flow.F_FIN_OUT)) == (Flow.F_FIN_IN | Flow.F_FIN_OUT)) {
          return idle > tcpClosingMs;
        }
        return idle > ((fl & Flow.F_SYNACK) != 0 ? tcpEstablishedMs : tcpTransitoryMs);
      }
      case UDP:
        return idle > udpMs;
      default:
        return idle > icmpMs;
    }
  }

  /** Expires idle flows, stale fragment entries and parked packets; runs on the control thread. */
  void sweep() {
    try {
      long t = clock();
      now = t;
      Worker w = worker.get();
      List<Half> doomed = new ArrayList<>();
      for (int i = 0; i < table.bucketCount(); i++) {
        table.forEachIn(i, h -> {
          if (h.dir >= Half.FRAGMENT ? t - h.created > fragmentMs : h.dir == Half.EGRESS && expired(h.flow, t)) {
            doomed.add(h);
          }
        });
        if (!doomed.isEmpty()) {
          for (Half h : doomed) {
            if (h.dir >= Half.FRAGMENT) {
              table.remove(h);
            } else if (!h.flow.removed) {
              removeFlow(h.flow);
              w.counts[Counter.FLOWS_EXPIRED.ordinal()]++;
            }
          }
          doomed.clear();
        }
      }
      for (Map.Entry<InetAddress, Pending> e : pending.entrySet()) {
        Pending p = e.getValue();
        if (t - p.created > parkTimeoutMs && pending.remove(e.getKey(), p)) {
          int n = p.drain().size();
          parkedTotal.addAndGet(-n);
          w.counts[Counter.DROP_PARK_TIMEOUT.ordinal()] += n;
        }
      }
      if (holds.length != 0) {
        sweepHolds();
      }
    } catch (RuntimeException e) {
      log.warn("flow sweep failed", e);
    }
  }

  // ---------------------------------------------------------------- parking while resolving

  private void park(Worker w, PacketView pv, InetAddress dst) {
    if (parkedTotal.get() >= maxParked) {
      w.counts[Counter.DROP_PARK_OVERFLOW.ordinal()]++;
      return;
    }
    Pending p = pending.computeIfAbsent(dst, k -> new Pending(now));
    long key = Half.hash(0, pv.isIpv6(), pv.protocol(), pv.srcHi(), pv.srcLo(), pv.dstHi(), pv.dstLo(), pv.srcPort(), pv.dstPort());
    byte[] copy = new byte[pv.length()];
    pv.buffer().get(pv.start(), copy);
    boolean first;
    synchronized (p) {
      if (p.done || p.countFor(key) >= parkedPerFlow) {
        w.counts[Counter.DROP_PARK_OVERFLOW.ordinal()]++;
        return;
      }
      p.packets.add(copy);
      p.keys.add(key);
      first = !p.asked;
      p.asked = true;
    }
    parkedTotal.incrementAndGet();
    w.counts[Counter.PARKED.ordinal()]++;
    if (first) {
      resolver.resolve(dst).whenComplete((res, err) -> released(dst, p, res, err));
    }
  }

  private void released(InetAddress dst, Pending p, Resolution res, Throwable err) {
    pending.remove(dst, p);
    List<byte[]> packets = p.drain();
    parkedTotal.addAndGet(-packets.size());
    if (!started || packets.isEmpty()) {
      return;
    }
    Worker w = worker.get();
    if (err != null || res == null || res.status() == Resolution.Status.UNAVAILABLE) {
      w.counts[Counter.DROP_RESOLVER_UNAVAILABLE.ordinal()] += packets.size();
      return;
    }
    ByteBuffer buf = parkBuffer(w);
    for (byte[] packet : packets) {
      buf.clear();
      buf.put(packet).flip();
      if (res.isFound()) {
        w.counts[Counter.UNPARKED.ordinal()]++;
        egress(w, buf, 0, packet.length, res.route());
      } else if (w.pv.parse(buf, 0, packet.length) == 0) {
        unreachable(w, w.pv);
      }
    }
    flush(w);
  }

  // ---------------------------------------------------------------- make-before-break migration

  /**
   * The {@code freeze} phase of a migration away from this node: instance {@code instance} (a
   * local instance, with its current locator) stops here. From now on packets for its namespace
   * IPs, from the tunnel and from local senders, are held in a bounded FIFO of its own (or dropped
   * and counted when buffering is off); none reach this node's bridge any more. When this node
   * learns a newer locator for the instance (pushed by the root after the {@code restored} phase,
   * or handed to {@link #release}), the held packets are replayed in order to the new place, and
   * later packets that still arrive here are forwarded there, with the replies of such flows
   * relayed back: no black hole while senders converge.
   *
   * <p>Why at the source: the freeze needs no control message (only this node's orchestrator
   * agent knows about it), and until a sender applies the new locator its packets arrive here
   * anyway, so this is the one place that sees every sender's packets; the senders need no state.
   * The freeze also registers this node's interest in the instance's service (a table query unless
   * the route is cached), so the root's push of the new locator reaches it.
   *
   * <p>Called by the orchestrator's node agent before it removes the instance from
   * {@link LocalInstances}; replaces an earlier hold of the same instance. Never blocks the data path.
   * Buffers as the builder's {@link Builder#migrationBuffering} says.
   */
  public void freeze(InstanceRecord instance) {
    freeze(instance, holdBuffering, null);
  }

  /**
   * {@link #freeze(InstanceRecord)}, choosing for this migration whether packets are held
   * ({@code buffering}) or dropped and counted until the release (e.g. a cold move whose sockets
   * are gone anyway, or to measure what buffering saves). When the orchestrator already knows the
   * destination it may name it ({@code destination}, else null): the tunnel link there is set up
   * during the freeze, so the release does not wait for a handshake.
   */
  public void freeze(InstanceRecord instance, boolean buffering, WorkerEndpoint destination) {
    Objects.requireNonNull(instance, "instance");
    if (instance.locator() == null) {
      throw new IllegalArgumentException(instance.key() + " has no locator");
    }
    ByteBuffer store = null;
    if (buffering) {
      synchronized (holdPool) {
        store = holdPool.poll();
      }
      if (store == null) {
        store = ByteBuffer.allocateDirect(holdBytes);
      }
    }
    Hold h = new Hold(instance, store, holdPackets, System.nanoTime());
    synchronized (holdPool) {
      List<Hold> next = new ArrayList<>();
      for (Hold o : holds) {
        if (!o.key.equals(h.key)) {
          next.add(o);
        }
      }
      next.add(h);
      holds = next.toArray(new Hold[0]);
    }
    InstanceIp iip = instance.instanceIpv4() != null ? instance.instanceIpv4() : instance.instanceIpv6();
    if (started && iip != null && resolver.cached(iip.address()) == null) {
      resolver.resolve(iip.address());
    }
    if (started && destination != null && tunnel != null && !destination.nodeId().equals(nodeId)) {
      tunnel.isReady(destination);
    }
    log.debug("{} frozen at {}: holding its packets", instance.key(), instance.locator());
  }

  /**
   * Releases a frozen instance to {@code to} (the {@code restored} phase as this node learns it):
   * replays the held packets in order, then forwards late ones. Normally called by the translator
   * itself when a record with a newer locator is pushed; an orchestrator agent may call it directly.
   * A locator on this node (the migration was called off) delivers the held packets here. Ignored
   * for an instance that is not frozen or a locator that is not newer than the one it froze at.
   */
  public void release(InstanceKey instance, Locator to) {
    Objects.requireNonNull(to, "to");
    for (Hold h : holds) {
      if (h.key.equals(instance)) {
        ScheduledExecutorService c = control;
        if (c != null && !c.isShutdown()) {
          c.execute(() -> moved(h, to, false));
        } else {
          moved(h, to, false);
        }
      }
    }
  }

  /** What this node did with the packets of an instance migrating away, or null if it holds none. */
  public MigrationHoldStats holdStats(InstanceKey instance) {
    for (Hold h : holds) {
      if (h.key.equals(instance)) {
        return h.stats();
      }
    }
    return null;
  }

  /**
   * A packet for a held instance's old namespace IP: held, dropped (counted) or forwarded.
   * Returns false for every other packet. A first packet of a flow this node has not seen yet
   * ({@code newFrom}, its peer) is learned as if delivered, so the new node's replies to it, which
   * come back through here, can be relayed to that peer.
   */
  private boolean held(Worker w, PacketView pv, Hold[] hs, WorkerEndpoint newFrom) {
    boolean v6 = pv.isIpv6();
    long hi = pv.dstHi();
    long lo = pv.dstLo();
    for (Hold h : hs) {
      if (!h.isOldNamespaceIp(v6, hi, lo)) {
        continue;
      }
      InstanceIp own = newFrom == null ? null : v6 ? h.instance.instanceIpv6() : h.instance.instanceIpv4();
      if (own != null) {
        learnFlow(w, pv, newFrom, own);
      }
      if (h.state != Hold.FORWARDING) {
        int r = h.append(pv.buffer(), pv.start(), pv.length());
        if (r > 0) {
          h.buffered.incrementAndGet();
          w.counts[Counter.MIGRATION_BUFFERED.ordinal()]++;
          return true;
        }
        if (r == 0) {
          if (h.buffers) {
            h.overflowed.incrementAndGet();
            w.counts[Counter.DROP_MIGRATION_OVERFLOW.ordinal()]++;
          } else {
            h.droppedFrozen.incrementAndGet();
            w.counts[Counter.DROP_MIGRATION_FROZEN.ordinal()]++;
          }
          return true;
        }
      }
      h.forwardedLate.incrementAndGet();
      h.lastLateNanos = System.nanoTime();
      w.counts[Counter.MIGRATION_FORWARDED_LATE.ordinal()]++;
      sendOn(w, h, pv);
      return true;
    }
    return false;
  }

  /**
   * A reply of a moved instance reaching this node from its new node for a flow that came through
   * here (the new node learned this node as the flow's way back from replayed or forwarded
   * packets): sent on to the peer this node's own flow answered, already translated.
   */
  private boolean relayed(Worker w, PacketView pv, WorkerEndpoint peer, Hold[] hs) {
    boolean v6 = pv.isIpv6();
    for (Hold h : hs) {
      if (!h.isInstanceIp(v6, pv.srcHi(), pv.srcLo())) {
        continue;
      }
      Half back = table.find(Half.EGRESS, v6, pv.protocol(), v6 ? h.oldV6Hi : 0, v6 ? h.oldV6Lo : h.oldV4,
          pv.dstHi(), pv.dstLo(), pv.srcPort(), pv.dstPort());
      if (back == null || back.nextHop == null || back.nextHop.equals(peer) || tunnel == null) {
        return false;
      }
      ByteBuffer b = pv.buffer();
      b.limit(pv.end()).position(pv.start());
      tunnel.send(back.nextHop, b);
      w.tunnelDirty = true;
      w.counts[Counter.SENT_TUNNEL.ordinal()]++;
      w.counts[Counter.MIGRATION_RELAYED.ordinal()]++;
      h.relayed.incrementAndGet();
      return true;
    }
    return false;
  }

  /** Sends a parsed packet of a released hold to the instance's new place (new namespace IP on a cold move). */
  private void sendOn(Worker w, Hold h, PacketView pv) {
    Locator to = h.to;
    boolean v6 = pv.isIpv6();
    InetAddress target = to.namespaceIp(!v6);
    if (target == null) {
      w.counts[Counter.DROP_NO_LOCAL_INSTANCE.ordinal()]++;
      return;
    }
    long tHi = hi(target);
    long tLo = lo(target);
    if (tHi != pv.dstHi() || tLo != pv.dstLo()) {
      int d = Half.addressDelta(v6, pv.srcHi(), pv.srcLo(), pv.dstHi(), pv.dstLo(), pv.srcHi(), pv.srcLo(), tHi, tLo);
      rewrite(pv, v6, pv.protocol(), pv.srcHi(), pv.srcLo(), tHi, tLo, d, false);
    }
    ByteBuffer b = pv.buffer();
    WorkerEndpoint hop = h.hop;
    if (hop == null) {
      ingress(w, b, pv.start(), pv.end(), null);
      return;
    }
    if (tunnel == null) {
      w.counts[Counter.DROP_NO_TUNNEL.ordinal()]++;
      return;
    }
    b.limit(pv.end()).position(pv.start());
    tunnel.send(hop, b);
    w.tunnelDirty = true;
    w.counts[Counter.SENT_TUNNEL.ordinal()]++;
  }

  /**
   * A newer locator for a held instance: release it, or follow a further move. With {@code home}
   * the instance was attached on this node again (the move was called off, or it came back), so
   * whatever its version says, packets are delivered here. Control thread.
   */
  private void moved(Hold h, Locator to, boolean home) {
    try {
      releaseHold(h, to, home);
    } catch (RuntimeException e) {
      log.warn("releasing {} to {} failed", h.key, to, e);
    }
  }

  private void releaseHold(Hold h, Locator to, boolean home) {
    if (!started || !home && (!to.isNewerThan(h.from) || (h.to != null && !to.isNewerThan(h.to)))) {
      return;
    }
    InetAddress t = to.namespaceIpv4() != null ? to.namespaceIpv4() : to.namespaceIpv6();
    WorkerEndpoint hop = home ? null : nextHop(t, to);
    if (h.state == Hold.FORWARDING) {
      if (hop == null) {
        dropHold(h, false);
      } else {
        h.to = to;
        h.hop = hop;
      }
      return;
    }
    if (hop != null && tunnel != null && !tunnel.isReady(hop)) {
      // A burst into a link still being set up would overflow its small waiting queue: keep
      // holding (the FIFO is bounded) and try again shortly, for at most the ready wait.
      long now = System.nanoTime();
      if (h.readyWaitSince == 0) {
        h.readyWaitSince = now;
      }
      ScheduledExecutorService c = control;
      if (now - h.readyWaitSince < READY_WAIT_NANOS && c != null && !c.isShutdown()) {
        c.schedule(() -> moved(h, to, home), 1, TimeUnit.MILLISECONDS);
        return;
      }
    }
    if (!h.startDraining(to, hop, System.nanoTime())) {
      return;
    }
    if (hop == null) {
      // Back home: new packets take the normal path again, the held ones follow them.
      dropHold(h, false);
    }
    replay(h);
  }

  /**
   * Replays up to {@link #REPLAY_BATCH} held packets, in order, then comes back a millisecond
   * later for the next batch: a whole freeze's worth of packets at once would overflow the queues
   * on the way (a tunnel link's, a device's transmit queue, the instance's socket). Packets that
   * arrive meanwhile queue behind the held ones. Control thread.
   */
  private void replay(Hold h) {
    Worker w = worker.get();
    ByteBuffer buf = parkBuffer(w);
    int len = 0;
    for (int n = 0; n < REPLAY_BATCH && (len = h.take(buf, System.nanoTime())) >= 0; n++) {
      if (w.pv.parse(buf, 0, len) != 0) {
        continue;
      }
      h.replayed.incrementAndGet();
      w.counts[Counter.MIGRATION_REPLAYED.ordinal()]++;
      sendOn(w, h, w.pv);
    }
    flush(w);
    if (len >= 0) {
      ScheduledExecutorService c = control;
      if (c != null && !c.isShutdown()) {
        c.schedule(() -> {
          try {
            replay(h);
          } catch (RuntimeException e) {
            log.warn("replaying the held packets of {} failed", h.key, e);
          }
        }, 1, TimeUnit.MILLISECONDS);
      } else {
        replay(h);
      }
      return;
    }
    ByteBuffer store = h.releaseStore();
    if (store != null) {
      store.clear();
      synchronized (holdPool) {
        holdPool.push(store);
      }
    }
    log.debug("{} released to {}: {} held packets replayed", h.key, h.to, h.replayed.get());
  }

  /**
   * Forgets a hold. Once its linger is over, this node's learned flows to the old namespace IP go
   * too, so a straggler is answered with route-not-found instead of reaching the bridge.
   */
  private void dropHold(Hold h, boolean forgetFlows) {
    synchronized (holdPool) {
      List<Hold> next = new ArrayList<>();
      for (Hold o : holds) {
        if (o != h) {
          next.add(o);
        }
      }
      holds = next.toArray(new Hold[0]);
    }
    if (!forgetFlows) {
      return;
    }
    List<Flow> stale = new ArrayList<>();
    for (int i = 0; i < table.bucketCount(); i++) {
      table.forEachIn(i, x -> {
        if (x.dir == Half.INGRESS && !x.flow.client && h.isOldNamespaceIp(x.v6, x.dHi, x.dLo)) {
          stale.add(x.flow);
        }
      });
    }
    stale.forEach(this::removeFlow);
  }

  /** Releases holds whose instance the pushed record shows at a newer place. */
  private void checkHolds(ServiceRecord current) {
    for (Hold h : holds) {
      if (h.key.service().equals(current.service())) {
        InstanceRecord i = current.instance(h.key.ordinal());
        if (i != null && i.locator() != null) {
          moved(h, i.locator(), false);
        }
      }
    }
  }

  /** The instance of a hold is attached here again: deliver its packets here. */
  private final class HomeListener implements LocalInstances.Listener {
    @Override
    public void onAttached(InstanceRecord instance) {
      ScheduledExecutorService c = control;
      for (Hold h : holds) {
        if (h.key.equals(instance.key()) && c != null && !c.isShutdown()) {
          c.execute(() -> moved(h, instance.locator(), true));
        }
      }
    }

    @Override
    public void onDetached(InstanceRecord instance) {}
  }

  /**
   * Forgets forwarding holds nobody has sent a late packet to for the linger time, and frozen ones
   * never released within it (the move failed and nobody said so): their packets are dropped and
   * counted as overflow rather than held for ever. Control thread.
   */
  private void sweepHolds() {
    long t = System.nanoTime();
    for (Hold h : holds) {
      if (h.state == Hold.FORWARDING && t - Math.max(h.drainedAtNanos, h.lastLateNanos) > holdLingerNanos) {
        dropHold(h, true);
      } else if (h.state == Hold.FROZEN && t - h.frozenAtNanos > holdLingerNanos) {
        int n = h.heldPackets();
        h.overflowed.addAndGet(n);
        worker.get().counts[Counter.DROP_MIGRATION_OVERFLOW.ordinal()] += n;
        dropHold(h, true);
        log.warn("{} stayed frozen for {} ms without a new locator: {} held packets dropped", h.key,
            (t - h.frozenAtNanos) / 1_000_000, n);
      }
    }
  }

  private static ByteBuffer parkBuffer(Worker w) {
    if (w.park == null) {
      w.park = ByteBuffer.allocateDirect(65536);
    }
    return w.park;
  }

  // ---------------------------------------------------------------- re-pointing

  private void reresolveFlowsTo(WorkerEndpoint from, InetAddress namespaceIp) {
    boolean v6 = namespaceIp instanceof Inet6Address;
    long nHi = hi(namespaceIp);
    long nLo = lo(namespaceIp);
    Map<InetAddress, List<Flow>> byTarget = new HashMap<>();
    for (int i = 0; i < table.bucketCount(); i++) {
      table.forEachIn(i, h -> {
        if (h.dir == Half.EGRESS && h.flow.client && h.v6 == v6 && h.nDstHi == nHi && h.nDstLo == nLo
            && from.equals(h.nextHop)) {
          byTarget.computeIfAbsent(h.flow.virtualDst, k -> new ArrayList<>()).add(h.flow);
        }
      });
    }
    for (Map.Entry<InetAddress, List<Flow>> e : byTarget.entrySet()) {
      resolver.resolve(e.getKey()).whenComplete((res, err) -> {
        for (Flow f : e.getValue()) {
          InstanceRecord inst = null;
          if (err == null && res != null && res.isFound()) {
            inst = res.route().record().instance(f.instance.ordinal());
          }
          repoint(f, inst, true);
        }
      });
    }
  }

  /**
   * Points a client flow at its instance's current place. With {@code mustMove}, a flow whose
   * instance is gone or unchanged is dropped so its next packet chooses afresh.
   */
  private void repoint(Flow f, InstanceRecord inst, boolean mustMove) {
    Half old = f.out;
    if (f.removed) {
      return;
    }
    if (inst == null || !inst.reachableOver(!old.v6)) {
      removeFlow(f);
      return;
    }
    InetAddress target = inst.locator().namespaceIp(!old.v6);
    WorkerEndpoint hop = nextHop(target, inst.locator());
    long tHi = hi(target);
    long tLo = lo(target);
    if (tHi == old.nDstHi && tLo == old.nDstLo && Objects.equals(hop, old.nextHop)) {
      if (mustMove) {
        removeFlow(f);
      }
      return;
    }
    Half n = old.withTarget(tHi, tLo, hop);
    synchronized (table) {
      if (f.removed) {
        return;
      }
      table.replace(old, n);
      f.out = n;
    }
    worker.get().counts[Counter.FLOWS_REPOINTED.ordinal()]++;
  }

  private void repointService(ServiceRecord current) {
    List<Flow> flows = clientFlowsOf(current.service());
    for (Flow f : flows) {
      repoint(f, current.instance(f.instance.ordinal()), false);
    }
  }

  private List<Flow> clientFlowsOf(ServiceId service) {
    List<Flow> flows = new ArrayList<>();
    for (int i = 0; i < table.bucketCount(); i++) {
      table.forEachIn(i, h -> {
        if (h.dir == Half.EGRESS && h.flow.client && h.flow.instance.service().equals(service)) {
          flows.add(h.flow);
        }
      });
    }
    return flows;
  }

  private final class Listener implements RouteListener {
    @Override
    public void onRecordUpdated(ServiceRecord previous, ServiceRecord current) {
      ScheduledExecutorService c = control;
      if (c != null && !c.isShutdown()) {
        c.execute(() -> {
          checkHolds(current);
          repointService(current);
        });
      }
    }

    @Override
    public void onServiceRemoved(ServiceId service) {
      ScheduledExecutorService c = control;
      if (c != null && !c.isShutdown()) {
        c.execute(() -> clientFlowsOf(service).forEach(SemnetTranslator.this::removeFlow));
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  private Worker newWorker() {
    Worker w = new Worker(Thread.currentThread());
    workers.add(w);
    return w;
  }

  private static long clock() {
    return System.nanoTime() / 1_000_000L;
  }

  static InetAddress addr(boolean v6, long hi, long lo) {
    byte[] a;
    if (v6) {
      a = new byte[16];
      ByteBuffer.wrap(a).putLong(hi).putLong(lo);
    } else {
      a = new byte[4];
      ByteBuffer.wrap(a).putInt((int) lo);
    }
    try {
      return InetAddress.getByAddress(a);
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  static long hi(InetAddress a) {
    byte[] b = a.getAddress();
    return b.length == 4 ? 0 : ByteBuffer.wrap(b).getLong(0);
  }

  static long lo(InetAddress a) {
    byte[] b = a.getAddress();
    return b.length == 4 ? ByteBuffer.wrap(b).getInt(0) & 0xffffffffL : ByteBuffer.wrap(b).getLong(8);
  }

  /** Per-thread scratch state and counters: the data path shares nothing it writes per packet. */
  /** Outcomes of {@link #lookup}. */
  private static final int CONSUMED = 0;
  private static final int FOUND = 1;
  private static final int MISS = 2;

  private static final class Worker {
    final Thread thread;
    final PacketView pv = new PacketView();
    final PacketView inner = new PacketView();
    final ByteBuffer scratch = ByteBuffer.allocateDirect(1400);
    final long[] counts = new long[COUNTERS.length];
    ByteBuffer park;
    /** The flow half {@link #lookup} found for the packet being handled. */
    Half found;
    boolean tunnelDirty;
    boolean ioDirty;

    Worker(Thread thread) {
      this.thread = thread;
    }
  }

  /** A policy's selector for one ServiceIP and its current candidates. */
  private static final class Selector {
    final String policy;
    final InstanceSelector selector;
    volatile Candidates candidates;

    Selector(String policy, InstanceSelector selector) {
      this.policy = policy;
      this.selector = selector;
    }
  }

  /** The instances of a record reachable over one family, as an indexed candidate set. */
  private static final class Candidates implements CandidateSet {
    final ServiceRecord record;
    final InstanceRecord[] members;
    final long generation;

    Candidates(ServiceRecord record, boolean ipv4, long generation) {
      this.record = record;
      this.members = record.instances().stream().filter(r -> r.reachableOver(ipv4)).toArray(InstanceRecord[]::new);
      this.generation = generation;
    }

    @Override
    public int size() {
      return members.length;
    }

    @Override
    public InstanceRecord get(int index) {
      return members[index];
    }

    @Override
    public long generation() {
      return generation;
    }
  }

  /** Packets parked for one virtual address while it resolves. */
  private static final class Pending {
    final long created;
    final List<byte[]> packets = new ArrayList<>();
    final List<Long> keys = new ArrayList<>();
    boolean asked;
    boolean done;

    Pending(long created) {
      this.created = created;
    }

    int countFor(long key) {
      int n = 0;
      for (Long k : keys) {
        if (k == key) {
          n++;
        }
      }
      return n;
    }

    synchronized List<byte[]> drain() {
      done = true;
      List<byte[]> out = new ArrayList<>(packets);
      packets.clear();
      keys.clear();
      return out;
    }
  }

  /** Configures a {@link SemnetTranslator}. Defaults suit a small edge node. */
  public static final class Builder {
    private int maxFlows = 65_536;
    private int parkedPerFlow = 8;
    private int maxParked = 4096;
    private Duration parkTimeout = Duration.ofSeconds(5);
    private Duration tcpEstablished = Duration.ofHours(2);
    private Duration tcpTransitory = Duration.ofSeconds(60);
    private Duration tcpClosing = Duration.ofSeconds(10);
    private Duration udp = Duration.ofSeconds(60);
    private Duration icmp = Duration.ofSeconds(30);
    private Duration fragment = Duration.ofSeconds(30);
    private Duration sweepInterval = Duration.ofSeconds(1);
    private int underlayMtu = 1500;
    private int tunnelOverhead = -1;
    private boolean ipv6Underlay;
    private boolean clampMss = true;
    private int holdPackets = 4096;
    private int holdBytes = 4 << 20;
    private boolean holdBuffering = true;
    private Duration holdLinger = Duration.ofSeconds(30);

    private Builder() {}

    /** Most flows kept; past it the least recently used of a sample is evicted. */
    public Builder maxFlows(int n) {
      this.maxFlows = positive(n, "maxFlows");
      return this;
    }

    /** Packets parked per new flow while its route resolves; more are dropped. */
    public Builder parkedPacketsPerFlow(int n) {
      this.parkedPerFlow = positive(n, "parkedPacketsPerFlow");
      return this;
    }

    /** Packets parked over all flows. */
    public Builder maxParkedPackets(int n) {
      this.maxParked = positive(n, "maxParkedPackets");
      return this;
    }

    /** How long parked packets wait for a resolution before being dropped. */
    public Builder parkTimeout(Duration d) {
      this.parkTimeout = Objects.requireNonNull(d);
      return this;
    }

    /** Idle timeout of a TCP flow that saw its handshake complete. */
    public Builder tcpEstablishedTimeout(Duration d) {
      this.tcpEstablished = Objects.requireNonNull(d);
      return this;
    }

    /** Idle timeout of a TCP flow whose handshake has not completed. */
    public Builder tcpTransitoryTimeout(Duration d) {
      this.tcpTransitory = Objects.requireNonNull(d);
      return this;
    }

    /** Idle timeout after a RST or FINs in both directions. */
    public Builder tcpClosingTimeout(Duration d) {
      this.tcpClosing = Objects.requireNonNull(d);
      return this;
    }

    public Builder udpTimeout(Duration d) {
      this.udp = Objects.requireNonNull(d);
      return this;
    }

    public Builder icmpTimeout(Duration d) {
      this.icmp = Objects.requireNonNull(d);
      return this;
    }

    /** How long a first fragment's identification maps later fragments to its flow. */
    public Builder fragmentTimeout(Duration d) {
      this.fragment = Objects.requireNonNull(d);
      return this;
    }

    /** How often idle flows are looked for. */
    public Builder sweepInterval(Duration d) {
      this.sweepInterval = Objects.requireNonNull(d);
      return this;
    }

    /** MTU of the underlay the tunnel runs over (default 1500). */
    public Builder underlayMtu(int mtu) {
      this.underlayMtu = positive(mtu, "underlayMtu");
      return this;
    }

    /** Bytes the tunnel adds; default: ask {@link Tunnel#overheadBytes} at start (0 without a tunnel). */
    public Builder tunnelOverhead(int bytes) {
      if (bytes < 0) {
        throw new IllegalArgumentException("tunnelOverhead must be >= 0");
      }
      this.tunnelOverhead = bytes;
      return this;
    }

    /** Whether the underlay is IPv6 (larger outer header). */
    public Builder ipv6Underlay(boolean v6) {
      this.ipv6Underlay = v6;
      return this;
    }

    /** Clamp the MSS of SYNs sent through the tunnel (default true). */
    public Builder clampMss(boolean clamp) {
      this.clampMss = clamp;
      return this;
    }

    /**
     * Caps of the FIFO that holds a frozen (migrating) instance's packets (default 4096 packets,
     * 4 MiB); the bytes are one direct buffer allocated at the first freeze and reused. Packets past
     * either cap are dropped and counted ({@link Counter#DROP_MIGRATION_OVERFLOW}).
     */
    public Builder migrationBuffer(int packets, int bytes) {
      this.holdPackets = positive(packets, "packets");
      if (bytes < 2 + 1280) {
        throw new IllegalArgumentException("bytes must hold at least one packet, got " + bytes);
      }
      this.holdBytes = bytes;
      return this;
    }

    /**
     * Whether a frozen instance's packets are held (default true). Off, they are dropped and counted
     * ({@link Counter#DROP_MIGRATION_FROZEN}) until the release; late packets are still forwarded.
     */
    public Builder migrationBuffering(boolean on) {
      this.holdBuffering = on;
      return this;
    }

    /**
     * How long after the last late packet a migrated instance's old namespace IP is still forwarded
     * to its new place (default 30 s); afterwards stragglers get route-not-found.
     */
    public Builder migrationLinger(Duration d) {
      this.holdLinger = Objects.requireNonNull(d);
      return this;
    }

    public SemnetTranslator build() {
      return new SemnetTranslator(this);
    }

    private static int positive(int n, String what) {
      if (n <= 0) {
        throw new IllegalArgumentException(what + " must be > 0, got " + n);
      }
      return n;
    }
  }
}
