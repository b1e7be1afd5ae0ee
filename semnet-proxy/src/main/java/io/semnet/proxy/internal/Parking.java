package io.semnet.proxy.internal;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.node.RouteResolver;
import io.semnet.core.route.Resolution;
import io.semnet.proxy.Counter;
import io.semnet.proxy.internal.packet.AddressWords;
import io.semnet.proxy.internal.packet.PacketView;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * First packets that cannot go on yet wait here while the resolver answers: a local client's first
 * packet to a virtual address without a cached route, and a peer's first packet whose source
 * address is not cached yet (cryptokey routing verifies it against the source's signed record).
 * A copy of each is parked, bounded per flow, per owner and in total (more are dropped and
 * counted), the resolver is asked once per address, and the answer sends the parked packets on
 * through the forwarding path (or answers them with ICMP unreachable, or drops them as not owned).
 * Packets whose answer takes longer than the park timeout are dropped by the sweep. The data path
 * never waits for the resolver.
 *
 * <p>The total budget is shared fairly: an owner (the sending local instance, by its namespace IP,
 * or the sending peer node) may hold at most the budget divided by the owners parking at the
 * moment (never less than the per-flow cap), so one busy instance cannot starve the others
 * (counted {@code DROP_PARK_QUOTA}).
 */
public final class Parking {
  private final Forwarder forwarder;
  private final ThreadScratches scratches;
  private final Control control;
  private final IcmpHandler icmp;
  private final int parkedPerFlow;
  private final int maxParked;
  private final long parkTimeoutMs;
  private final ConcurrentHashMap<InetAddress, Pending> pending = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<InetAddress, Pending> sources = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Object, Integer> owners = new ConcurrentHashMap<>();
  private final AtomicInteger parkedTotal = new AtomicInteger();
  /** Sources being verified (entries of {@link #sources}); the data path reads it to skip the map. */
  private final AtomicInteger sourcesPending = new AtomicInteger();
  private RouteResolver resolver;

  Parking(TranslatorConfig c, Forwarder forwarder, ThreadScratches scratches, Control control, IcmpHandler icmp) {
    this.forwarder = forwarder;
    this.scratches = scratches;
    this.control = control;
    this.icmp = icmp;
    this.parkedPerFlow = c.parkedPerFlow();
    this.maxParked = c.maxParked();
    this.parkTimeoutMs = c.parkTimeoutMs();
  }

  void start(Wiring wiring) {
    this.resolver = wiring.resolver();
  }

  /**
   * Per-flow cap for packets from a peer parked while their source is verified. Larger than the
   * route-miss cap: a migrated instance's previous place replays its held packets as a burst (64 per
   * millisecond, up to 4 times that when it catches up on a busy machine) to the new place, which usually has not seen the sender's record yet; dropping all
   * but the first few would lose exactly what the hold kept. Still bounded by the total budget and
   * the fair share per owner.
   */
  static final int SOURCE_PARKED_PER_FLOW = 2048;

  /** Packets parked waiting for routes. */
  public int count() {
    return parkedTotal.get();
  }

  /** Parks a copy of {@code pv}'s packet (from a local instance) until {@code dst} resolves (the first park asks the resolver). */
  void park(ThreadScratch w, PacketView pv, InetAddress dst) {
    InetAddress owner = AddressWords.toInetAddress(pv.isIpv6(), pv.srcHi(), pv.srcLo());
    Pending p = add(w, pv, pending, dst, owner, null);
    if (p != null) {
      resolver.resolve(dst).whenComplete((res, err) -> released(pending, dst, p, res, err));
    }
  }

  /**
   * Parks a copy of {@code pv}'s packet from {@code peer} until its source address {@code src}
   * resolves; then it goes through the ingress path again with the source's route at hand.
   */
  void parkSource(ThreadScratch w, PacketView pv, InetAddress src, WorkerEndpoint peer) {
    Pending p = add(w, pv, sources, src, peer.nodeId(), peer);
    if (p != null) {
      resolver.resolve(src).whenComplete((res, err) -> released(sources, src, p, res, err));
    }
  }

  /**
   * Keeps order while a peer's source is verified: a packet from a peer whose source has packets
   * parked (or being sent on) is parked behind them, even if its flow is known or its source cached
   * by now, so it cannot overtake them. True if parked (or dropped, counted). Costs a volatile read
   * unless some source is being verified.
   */
  boolean parkBehind(ThreadScratch w, PacketView pv, WorkerEndpoint peer) {
    if (sourcesPending.get() == 0) {
      return false;
    }
    InetAddress src = AddressWords.toInetAddress(pv.isIpv6(), pv.srcHi(), pv.srcLo());
    Pending p = sources.get(src);
    if (p == null || p.done) {
      return false;
    }
    parkSource(w, pv, src, peer);
    return true;
  }

  /** Parks a copy; returns its pending entry if the resolver must be asked (the first packet for {@code addr}), else null. */
  private Pending add(ThreadScratch w, PacketView pv, ConcurrentHashMap<InetAddress, Pending> map, InetAddress addr,
      Object owner, WorkerEndpoint peer) {
    if (parkedTotal.get() >= maxParked) {
      w.counts[Counter.DROP_PARK_OVERFLOW.ordinal()]++;
      return null;
    }
    long key = Half.hash(0, pv.isIpv6(), pv.protocol(), pv.srcHi(), pv.srcLo(), pv.dstHi(), pv.dstLo(), pv.srcPort(), pv.dstPort());
    boolean first;
    Pending p;
    while (true) {
      p = map.computeIfAbsent(addr, k -> newPending(map));
      synchronized (p) {
        if (!p.done) {
          break;
        }
      }
      // sent on and closed just now: a new entry (asking again answers from the cache)
      map.remove(addr, p);
    }
    synchronized (p) {
      int cap = map == sources ? Math.max(parkedPerFlow, SOURCE_PARKED_PER_FLOW) : parkedPerFlow;
      if (p.done || p.countFor(key) >= cap) {
        w.counts[Counter.DROP_PARK_OVERFLOW.ordinal()]++;
        return null;
      }
      if (!takeShare(owner)) {
        w.counts[Counter.DROP_PARK_QUOTA.ordinal()]++;
        return null;
      }
      byte[] copy = new byte[pv.length()];
      pv.buffer().get(pv.start(), copy);
      p.parked.add(new Parked(copy, key, owner, peer));
      first = !p.asked;
      p.asked = true;
    }
    parkedTotal.incrementAndGet();
    w.counts[Counter.PARKED.ordinal()]++;
    return first ? p : null;
  }

  /** Takes one packet of {@code owner}'s fair share of the budget; false if it has used it up. */
  private boolean takeShare(Object owner) {
    boolean[] ok = {false};
    owners.compute(owner, (k, v) -> {
      int n = v == null ? 0 : v;
      int active = owners.size() + (v == null ? 1 : 0);
      if (n >= Math.max(parkedPerFlow, maxParked / active)) {
        return v;
      }
      ok[0] = true;
      return n + 1;
    });
    return ok[0];
  }

  private void giveBack(List<Parked> parked) {
    for (Parked x : parked) {
      owners.computeIfPresent(x.owner, (k, v) -> v <= 1 ? null : v - 1);
    }
    parkedTotal.addAndGet(-parked.size());
  }

  private Pending newPending(ConcurrentHashMap<InetAddress, Pending> map) {
    if (map == sources) {
      sourcesPending.incrementAndGet();
    }
    return new Pending(forwarder.now());
  }

  private void closed(ConcurrentHashMap<InetAddress, Pending> map, InetAddress addr, Pending p) {
    if (map.remove(addr, p) && map == sources) {
      sourcesPending.decrementAndGet();
    }
  }

  /**
   * The answer for {@code addr}: sends the parked packets on, in order, and those parked behind
   * them meanwhile, until none is left; only then the entry goes, so no later packet of the same
   * address overtakes a parked one (see {@link #parkBehind}).
   */
  private void released(ConcurrentHashMap<InetAddress, Pending> map, InetAddress addr, Pending p, Resolution res,
      Throwable err) {
    while (true) {
      List<Parked> packets;
      synchronized (p) {
        if (p.parked.isEmpty()) {
          p.done = true;
          closed(map, addr, p);
          return;
        }
        packets = new ArrayList<>(p.parked);
        p.parked.clear();
      }
      giveBack(packets);
      sendOn(packets, res, err);
    }
  }

  private void sendOn(List<Parked> packets, Resolution res, Throwable err) {
    if (!control.started()) {
      return;
    }
    ThreadScratch w = scratches.get();
    w.beginSection();
    try {
      if (err != null || res == null || res.status() == Resolution.Status.UNAVAILABLE) {
        w.counts[Counter.DROP_RESOLVER_UNAVAILABLE.ordinal()] += packets.size();
        return;
      }
      sendOn(w, packets, res);
    } finally {
      w.endSection();
    }
  }

  private void sendOn(ThreadScratch w, List<Parked> packets, Resolution res) {
    ByteBuffer buf = w.parkBuffer();
    for (Parked x : packets) {
      byte[] packet = x.packet;
      buf.clear();
      buf.put(packet).flip();
      if (x.peer != null) {
        if (!res.isFound()) {
          w.counts[Counter.DROP_SOURCE_NOT_OWNED.ordinal()]++;
          continue;
        }
        w.counts[Counter.UNPARKED.ordinal()]++;
        w.srcRoute = res.route();
        forwarder.ingress(w, buf, 0, packet.length, x.peer);
        w.srcRoute = null;
      } else if (res.isFound()) {
        w.counts[Counter.UNPARKED.ordinal()]++;
        forwarder.egress(w, buf, 0, packet.length, res.route());
      } else if (w.pv.parse(buf, 0, packet.length) == 0) {
        icmp.unreachable(w, w.pv);
      }
    }
    forwarder.flush(w);
  }

  /** Drops (and counts) packets parked longer than the park timeout as of {@code t}. Control thread. */
  void sweep(long t, ThreadScratch w) {
    sweep(pending, t, w);
    sweep(sources, t, w);
  }

  private void sweep(ConcurrentHashMap<InetAddress, Pending> map, long t, ThreadScratch w) {
    for (Map.Entry<InetAddress, Pending> e : map.entrySet()) {
      Pending p = e.getValue();
      if (t - p.created > parkTimeoutMs) {
        List<Parked> gone = p.drain();
        closed(map, e.getKey(), p);
        giveBack(gone);
        w.counts[Counter.DROP_PARK_TIMEOUT.ordinal()] += gone.size();
      }
    }
  }

  /** One parked packet: its bytes, its flow's hash, whose share it uses, the peer it came from (or null). */
  private record Parked(byte[] packet, long key, Object owner, WorkerEndpoint peer) {}

  /** Packets parked for one address while it resolves. */
  private static final class Pending {
    final long created;
    final List<Parked> parked = new ArrayList<>();
    boolean asked;
    boolean done;

    Pending(long created) {
      this.created = created;
    }

    int countFor(long key) {
      int n = 0;
      for (Parked x : parked) {
        if (x.key == key) {
          n++;
        }
      }
      return n;
    }

    synchronized List<Parked> drain() {
      done = true;
      List<Parked> out = new ArrayList<>(parked);
      parked.clear();
      return out;
    }
  }
}
