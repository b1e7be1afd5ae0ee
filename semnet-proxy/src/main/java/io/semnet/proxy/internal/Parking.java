package io.semnet.proxy.internal;

import io.semnet.core.node.RouteResolver;
import io.semnet.core.route.Resolution;
import io.semnet.proxy.Counter;
import io.semnet.proxy.internal.packet.PacketView;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * First packets to a virtual address without a cached route wait here while the resolver answers:
 * a copy of each is parked, bounded per flow and in total (more are dropped and counted), the
 * resolver is asked once per address, and the answer sends the parked packets on through the
 * forwarding path (or answers them with ICMP unreachable). Packets whose answer takes longer than
 * the park timeout are dropped by the sweep. The data path never waits for the resolver.
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
  private final AtomicInteger parkedTotal = new AtomicInteger();
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

  /** Packets parked waiting for routes. */
  public int count() {
    return parkedTotal.get();
  }

  /** Parks a copy of {@code pv}'s packet until {@code dst} resolves (the first park asks the resolver). */
  void park(ThreadScratch w, PacketView pv, InetAddress dst) {
    if (parkedTotal.get() >= maxParked) {
      w.counts[Counter.DROP_PARK_OVERFLOW.ordinal()]++;
      return;
    }
    Pending p = pending.computeIfAbsent(dst, k -> new Pending(forwarder.now()));
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
    if (!control.started() || packets.isEmpty()) {
      return;
    }
    ThreadScratch w = scratches.get();
    if (err != null || res == null || res.status() == Resolution.Status.UNAVAILABLE) {
      w.counts[Counter.DROP_RESOLVER_UNAVAILABLE.ordinal()] += packets.size();
      return;
    }
    ByteBuffer buf = w.parkBuffer();
    for (byte[] packet : packets) {
      buf.clear();
      buf.put(packet).flip();
      if (res.isFound()) {
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
    for (Map.Entry<InetAddress, Pending> e : pending.entrySet()) {
      Pending p = e.getValue();
      if (t - p.created > parkTimeoutMs && pending.remove(e.getKey(), p)) {
        int n = p.drain().size();
        parkedTotal.addAndGet(-n);
        w.counts[Counter.DROP_PARK_TIMEOUT.ordinal()] += n;
      }
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
}
