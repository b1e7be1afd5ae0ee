package io.semnet.proxy.internal;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.record.InstanceRecord;
import io.semnet.proxy.Counter;
import io.semnet.proxy.internal.packet.AddressWords;
import io.semnet.proxy.internal.packet.Checksums;
import io.semnet.proxy.internal.packet.PacketView;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * In-order delivery across a move, at the destination: the {@link ReplayGate}s of instances
 * restored here. A sender that already applied the new locator sends here directly while the
 * previous place may still be replaying what it held (or forwarding what the sender sent before it
 * switched); its direct packets would overtake that tail. So, from the restore until the previous
 * place's <em>replay end</em> marker arrives, packets for the instance from any other peer wait;
 * the marker travels in-band through the tunnel behind the last replayed packet (the previous place
 * sends it when its FIFO is empty, buffering or not), so when it arrives everything the previous
 * place replayed was delivered, and the waiting packets follow in their arrival order. No control
 * message and no round trip: the marker is one small datagram on the link the replay used anyway.
 *
 * <p>Bounded: at most {@link #GATE_PACKETS} packets / {@link #GATE_BYTES} bytes wait per instance,
 * for at most {@link #WAIT_MS} after the first began to wait or the previous place's replay last
 * made progress (a busy machine replays slowly), and {@link #MAX_WAIT_MS} in all; past a bound the
 * waiting packets are delivered at once (order given up, nothing dropped; counted
 * {@code MIGRATION_ORDER_BOUND_HIT}). A gate nothing waited at is forgotten after {@link #LIFE_MS}.
 * Only the node the instance was restored from can end the wait with a marker.
 *
 * <p>The marker is an IP packet with protocol 253 (RFC 3692, experimentation), source the
 * instance's InstanceIP and an 8-byte payload {@code "SNRE"} + version; this node consumes it and
 * never delivers it. Elsewhere (an older node) it is dropped as an unsupported protocol.
 */
public final class ReplayGates {
  private static final Logger log = LoggerFactory.getLogger(ReplayGates.class);
  /** The marker's IP protocol number (RFC 3692: for experimentation and testing). */
  static final int MARKER_PROTOCOL = 253;
  private static final int MAGIC = 0x534e5245; // "SNRE"
  private static final int VERSION = 1;
  /** Most packets waiting per restored instance. */
  static final int GATE_PACKETS = 2048;
  /** Most bytes waiting per restored instance (the FIFO's size). */
  static final int GATE_BYTES = 2 << 20;
  /** Longest the first waiting packet waits for the marker: the replay of a full freeze (64 packets per ms, slower on a loaded machine) plus the previous place learning the new locator later than the sender must fit. */
  static final long WAIT_MS = 500;
  /** Longest the first waiting packet waits while the previous place's replay keeps coming. */
  static final long MAX_WAIT_MS = 2_000;
  /** A gate at which nothing waited is forgotten after this long without a marker. */
  static final long LIFE_MS = 10_000;
  static final int PASS = 0;
  static final int HELD = 1;
  /** The bound was hit and the gate drained: the caller handles its packet again, normally. */
  static final int REDO = 2;
  private static final ReplayGate[] NONE = new ReplayGate[0];
  private static final int UNSUPPORTED = PacketView.Status.UNSUPPORTED_PROTOCOL.ordinal();

  private final Forwarder forwarder;
  private final ThreadScratches scratches;
  private final Control control;
  private final SourceCheck sources;
  private final Object lock = new Object();
  private volatile ReplayGate[] gates = NONE;

  ReplayGates(Forwarder forwarder, ThreadScratches scratches, Control control, SourceCheck sources) {
    this.sources = sources;
    this.forwarder = forwarder;
    this.scratches = scratches;
    this.control = control;
  }

  /**
   * {@code restored} (its record here) was restored on this node from node {@code fromNode}: its
   * packets from other peers wait for that node's replay end (bounded).
   */
  public void open(InstanceRecord restored, String fromNode) {
    Objects.requireNonNull(restored, "restored");
    Objects.requireNonNull(fromNode, "fromNode");
    ReplayGate g = new ReplayGate(restored, fromNode, GATE_PACKETS, GATE_BYTES, System.nanoTime());
    synchronized (lock) {
      List<ReplayGate> next = new ArrayList<>();
      for (ReplayGate o : gates) {
        if (!o.key.equals(g.key)) {
          next.add(o);
        }
      }
      next.add(g);
      gates = next.toArray(NONE);
    }
  }

  /** The open gates (never null; empty unless an instance was restored here moments ago). */
  ReplayGate[] current() {
    return gates;
  }

  /** Packets waiting at the gate of {@code key}, or -1 if it has none. */
  public int waiting(io.semnet.core.record.InstanceKey key) {
    for (ReplayGate g : gates) {
      if (g.key.equals(key)) {
        return g.waiting();
      }
    }
    return -1;
  }

  // ---------------------------------------------------------------- data path

  /** A peer's parsed packet: {@link #HELD} at a gate, {@link #PASS}, or {@link #REDO} after the bound was hit. */
  int gate(ThreadScratch w, PacketView pv, WorkerEndpoint peer, ReplayGate[] gs) {
    boolean v6 = pv.isIpv6();
    for (ReplayGate g : gs) {
      if (g.state == ReplayGate.CLOSED || !g.isNamespaceIp(v6, pv.dstHi(), pv.dstLo())) {
        continue;
      }
      if (g.from.equals(peer.nodeId())) {
        g.progressNanos = System.nanoTime(); // the replay goes on: the wait's bound counts from here
        continue;
      }
      int r = g.append(pv.buffer(), pv.start(), pv.length(), peer, System.nanoTime());
      if (r > 0) {
        g.sawDirect(peer);
        w.counts[Counter.MIGRATION_ORDER_HELD.ordinal()]++;
        if (r == 2 && !control.schedule(() -> expire(g), WAIT_MS)) {
          drain(g, w, true);
          return REDO;
        }
        return HELD;
      }
      if (r == 0) {
        drain(g, w, true);
        return REDO;
      }
      return PASS;
    }
    return PASS;
  }

  /**
   * The way back for a packet the previous place replays or forwards ({@code peer}) to a gated
   * instance: the sender's own node if it was seen sending here directly (so it applied the new
   * locator and accepts the instance's replies from here) and the signed records place the sender
   * there; else null (replies go back through the previous place, which relays them). Replies then
   * take one path, in order, instead of switching from the relayed path to the direct one while
   * relayed ones are still on their way.
   */
  WorkerEndpoint wayBack(PacketView pv, WorkerEndpoint peer, ReplayGate[] gs) {
    boolean v6 = pv.isIpv6();
    for (ReplayGate g : gs) {
      if (g.state == ReplayGate.CLOSED || !g.from.equals(peer.nodeId()) || !g.isNamespaceIp(v6, pv.dstHi(), pv.dstLo())) {
        continue;
      }
      for (WorkerEndpoint d : g.direct()) {
        if (sources.mayRoam(pv, d)) {
          return d;
        }
      }
    }
    return null;
  }

  /**
   * A packet the parser refused as an unsupported protocol, from {@code peer}: true (consumed) if it
   * is the replay-end marker of an instance restored here from that peer's node; its gate drains.
   */
  boolean marker(ThreadScratch w, int parseStatus, PacketView pv, WorkerEndpoint peer) {
    if (!isSignal(parseStatus, pv, MAGIC)) {
      return false;
    }
    boolean v6 = pv.isIpv6();
    for (ReplayGate g : gates) {
      if (g.isInstanceIp(v6, pv.srcHi(), pv.srcLo()) && g.from.equals(peer.nodeId())) {
        w.counts[Counter.MIGRATION_REPLAY_END_RECEIVED.ordinal()]++;
        drain(g, w, false);
        return true;
      }
    }
    return false;
  }

  /**
   * Sends the waiting packets through the ingress path again, in order (packets arriving meanwhile
   * queue behind them), flushes, and closes the gate once nothing waits.
   */
  private void drain(ReplayGate g, ThreadScratch w, boolean boundHit) {
    if (!g.startDraining()) {
      return;
    }
    if (boundHit) {
      w.counts[Counter.MIGRATION_ORDER_BOUND_HIT.ordinal()]++;
    }
    ByteBuffer buf = w.parkBuffer();
    WorkerEndpoint[] peer = new WorkerEndpoint[1];
    boolean was = w.bypassGate;
    w.bypassGate = true;
    try {
      do {
        int len;
        while ((len = g.take(buf, peer)) >= 0) {
          forwarder.ingress(w, buf, 0, len, peer[0]);
        }
        forwarder.flush(w);
      } while (!g.closeIfEmpty());
    } finally {
      w.bypassGate = was;
    }
    forget(g);
  }

  private void expire(ReplayGate g) {
    try {
      if (g.state == ReplayGate.OPEN) {
        long now = System.nanoTime();
        long first;
        synchronized (g) {
          first = g.firstHeldNanos;
        }
        long quiet = now - Math.max(first, g.progressNanos);
        long left = WAIT_MS - quiet / 1_000_000L;
        if (left > 0 && now - first < MAX_WAIT_MS * 1_000_000L && control.schedule(() -> expire(g), left)) {
          return; // the previous place is still replaying
        }
        log.debug("{}: no replay end from {} within {} ms, {} packets stop waiting", g.key, g.from, WAIT_MS, g.waiting());
        drain(g, scratches.get(), true);
      }
    } catch (RuntimeException e) {
      log.warn("ending the wait at the gate of {} failed", g.key, e);
    }
  }

  private void forget(ReplayGate g) {
    synchronized (lock) {
      List<ReplayGate> next = new ArrayList<>();
      for (ReplayGate o : gates) {
        if (o != g) {
          next.add(o);
        }
      }
      gates = next.toArray(NONE);
    }
  }

  /** Forgets gates that never saw a marker nor a waiting packet for {@link #LIFE_MS}. Control thread. */
  void sweep(ThreadScratch w) {
    long t = System.nanoTime();
    for (ReplayGate g : gates) {
      if (g.state == ReplayGate.OPEN && g.waiting() == 0 && t - g.openedAtNanos > LIFE_MS * 1_000_000L) {
        drain(g, w, false);
      }
    }
  }

  // ---------------------------------------------------------------- at the previous place

  /**
   * Writes the replay-end marker of {@code h}'s instance into {@code b} at 0 (IPv4 if the instance
   * has an IPv4 InstanceIP, else IPv6) and returns its length, or -1 if it has no InstanceIP.
   */
  static int writeMarker(ByteBuffer b, Hold h) {
    if (h.hasIip4) {
      return writeSignal(b, MAGIC, false, 0, h.iip4, 0, h.hasV4 ? h.oldV4 : h.iip4);
    }
    if (h.hasIip6) {
      return writeSignal(b, MAGIC, true, h.iip6Hi, h.iip6Lo, h.hasV6 ? h.oldV6Hi : h.iip6Hi, h.hasV6 ? h.oldV6Lo : h.iip6Lo);
    }
    return -1;
  }

  /**
   * Writes an in-band migration signal into {@code b} at 0 and returns its length: an IP packet with
   * protocol {@link #MARKER_PROTOCOL}, the given addresses and an 8-byte payload {@code magic} +
   * version.
   */
  static int writeSignal(ByteBuffer b, int magic, boolean v6, long srcHi, long srcLo, long dstHi, long dstLo) {
    b.clear();
    if (!v6) {
      b.putInt(0, 0x45000000 | 28);
      b.putInt(4, 0x00004000); // id 0, DF
      b.putInt(8, 64 << 24 | MARKER_PROTOCOL << 16);
      b.putInt(12, (int) srcLo);
      b.putInt(16, (int) dstLo);
      b.putShort(10, (short) Checksums.finish(Checksums.sum(b, 0, 20, 0)));
      b.putInt(20, magic);
      b.putInt(24, VERSION);
      return 28;
    }
    b.putInt(0, 0x60000000);
    b.putInt(4, 8 << 16 | MARKER_PROTOCOL << 8 | 64);
    AddressWords.putAddresses(b, 0, true, srcHi, srcLo, dstHi, dstLo);
    b.putInt(40, magic);
    b.putInt(44, VERSION);
    return 48;
  }

  /** True if a packet the parser refused ({@code parseStatus}) is an in-band migration signal {@code magic}. */
  static boolean isSignal(int parseStatus, PacketView pv, int magic) {
    if (parseStatus != UNSUPPORTED || pv.protocol() != MARKER_PROTOCOL) {
      return false;
    }
    int p = pv.l4Offset();
    return p + 8 <= pv.end() && pv.buffer().getInt(p) == magic;
  }
}
