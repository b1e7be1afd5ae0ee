package io.semnet.proxy.internal;

import io.semnet.core.address.InstanceIp;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.node.LocalInstances;
import io.semnet.core.node.Tunnel;
import io.semnet.core.record.InstanceKey;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.proxy.Counter;
import io.semnet.proxy.MigrationHoldStats;
import io.semnet.proxy.internal.packet.AddressRewriter;
import io.semnet.proxy.internal.packet.AddressWords;
import io.semnet.proxy.internal.packet.PacketView;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Make-before-break migration away from this node: the {@link Hold}s of frozen instances, their
 * release to the instance's new place (replaying held packets in order, in batches), forwarding of
 * late packets and relaying of replies while senders converge, and forgetting a hold after its
 * linger. The data path consults {@link #current()} per packet from a peer; the array is
 * copy-on-write and empty in the common case. Releases, replays and sweeps run on the control
 * thread.
 */
public final class MigrationHolds {
  private static final Logger log = LoggerFactory.getLogger(MigrationHolds.class);
  /** Held packets replayed per millisecond after a release. */
  private static final int REPLAY_BATCH = 64;
  /** Most batches one late replay step takes at once. */
  private static final int REPLAY_CATCH_UP = 4;
  /** Longest a release waits for the tunnel link to the new place before replaying anyway. */
  private static final long READY_WAIT_NANOS = 2_000_000_000L;
  private static final Hold[] NONE = new Hold[0];
  /** Payload of the in-band "restored here" signal ({@link #announceRestore}): "SNUP". */
  static final int RESTORED_MAGIC = 0x534e5550;

  private final Forwarder forwarder;
  private final FlowSetup setup;
  private final Flows flows;
  private final FlowTable table;
  private final ThreadScratches scratches;
  private final Control control;
  private final int holdPackets;
  private final int holdBytes;
  private final long holdLingerNanos;
  /** Instances migrating away from this node; copy-on-write (under {@link #holdPool}). */
  private volatile Hold[] holds = NONE;
  /** FIFO buffers of finished holds, reused by the next freeze (guarded by itself). */
  private final ArrayDeque<ByteBuffer> holdPool = new ArrayDeque<>();
  private final LocalInstances.Listener homeListener = new HomeListener();
  private Wiring wiring;
  private Tunnel tunnel;

  MigrationHolds(TranslatorConfig c, Forwarder forwarder, FlowSetup setup, Flows flows, FlowTable table,
      ThreadScratches scratches, Control control) {
    this.forwarder = forwarder;
    this.setup = setup;
    this.flows = flows;
    this.table = table;
    this.scratches = scratches;
    this.control = control;
    this.holdPackets = c.holdPackets();
    this.holdBytes = c.holdBytes();
    this.holdLingerNanos = c.holdLingerNanos();
  }

  void start(Wiring w) {
    this.wiring = w;
    this.tunnel = w.tunnel();
  }

  /** Listens for instances attached here again (a move called off, or coming home). */
  LocalInstances.Listener homeListener() {
    return homeListener;
  }

  /** The current holds (never null; empty unless an instance is migrating away). */
  Hold[] current() {
    return holds;
  }

  /** Freezes {@code instance}; see {@code SemnetTranslator#freeze(InstanceRecord, boolean, WorkerEndpoint)}. */
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
    h.destination = destination;
    synchronized (holdPool) {
      List<Hold> next = new ArrayList<>();
      for (Hold o : holds) {
        if (!o.key.equals(h.key)) {
          next.add(o);
        }
      }
      next.add(h);
      holds = next.toArray(NONE);
    }
    InstanceIp iip = instance.instanceIpv4() != null ? instance.instanceIpv4() : instance.instanceIpv6();
    boolean started = control.started();
    if (started && iip != null && wiring.resolver().cached(iip.address()) == null) {
      wiring.resolver().resolve(iip.address());
    }
    if (started && destination != null && tunnel != null && !destination.nodeId().equals(wiring.nodeId())) {
      tunnel.isReady(destination);
    }
    log.debug("{} frozen at {}: holding its packets", instance.key(), instance.locator());
  }

  /** Releases a frozen instance to {@code to}; see {@code SemnetTranslator#release}. */
  public void release(InstanceKey instance, Locator to) {
    Objects.requireNonNull(to, "to");
    for (Hold h : holds) {
      if (h.key.equals(instance)) {
        if (!control.execute(() -> moved(h, to, false))) {
          moved(h, to, false);
        }
      }
    }
  }

  /** What this node did with the packets of an instance migrating away, or null if it holds none. */
  public MigrationHoldStats stats(InstanceKey instance) {
    for (Hold h : holds) {
      if (h.key.equals(instance)) {
        return h.stats();
      }
    }
    return null;
  }

  /**
   * The destination's side of a stateful move: tells {@code previous}, in-band through the tunnel,
   * that {@code restored} (which kept its namespace IPs) runs on this node now. A previous place
   * that froze the instance naming this node as its destination releases at once, without waiting
   * for the root's publish and push; the push still comes, and still releases if the signal was
   * lost. One small datagram, sent from the control thread.
   */
  public void announceRestore(InstanceRecord restored, WorkerEndpoint previous) {
    Objects.requireNonNull(restored, "restored");
    Objects.requireNonNull(previous, "previous");
    Locator l = restored.locator();
    if (l == null || tunnel == null || !control.started() || previous.nodeId().equals(wiring.nodeId())) {
      return;
    }
    boolean v4 = restored.instanceIpv4() != null && l.namespaceIpv4() != null;
    if (!v4 && (restored.instanceIpv6() == null || l.namespaceIpv6() == null)) {
      return;
    }
    InetAddress src = v4 ? restored.instanceIpv4().address() : restored.instanceIpv6().address();
    InetAddress dst = v4 ? l.namespaceIpv4() : l.namespaceIpv6();
    control.execute(() -> {
      ThreadScratch w = scratches.get();
      ByteBuffer buf = w.parkBuffer();
      int len = ReplayGates.writeSignal(buf, RESTORED_MAGIC, !v4, AddressWords.hi(src), AddressWords.lo(src),
          AddressWords.hi(dst), AddressWords.lo(dst));
      buf.limit(len).position(0);
      tunnel.send(previous, buf);
      w.counts[Counter.SENT_TUNNEL.ordinal()]++;
      w.counts[Counter.MIGRATION_RESTORED_SENT.ordinal()]++;
      tunnel.flush();
    });
  }

  // ---------------------------------------------------------------- data path

  /**
   * A packet the parser refused ({@code parseStatus}) from {@code peer}: true (consumed) if it is
   * the "restored here" signal of an instance frozen here that the orchestrator is moving to that
   * peer's node, with its namespace IP kept; the hold is released to that node at once.
   */
  boolean restoredSignal(ThreadScratch w, int parseStatus, PacketView pv, WorkerEndpoint peer) {
    if (!ReplayGates.isSignal(parseStatus, pv, RESTORED_MAGIC)) {
      return false;
    }
    boolean v6 = pv.isIpv6();
    for (Hold h : holds) {
      WorkerEndpoint d = h.destination;
      if (d == null || !d.nodeId().equals(peer.nodeId()) || !h.isInstanceIp(v6, pv.srcHi(), pv.srcLo())
          || !h.isOldNamespaceIp(v6, pv.dstHi(), pv.dstLo())) {
        continue;
      }
      w.counts[Counter.MIGRATION_RESTORED_RECEIVED.ordinal()]++;
      if (h.state == Hold.FROZEN) {
        Locator to = Locator.of(h.from.namespaceIpv4(), h.from.namespaceIpv6(), d, h.from.version());
        if (!control.execute(() -> released(h, to, false))) {
          released(h, to, false);
        }
      }
      return true;
    }
    return false;
  }


  /** True if {@code (hi, lo)} is the old namespace IP of one of {@code hs}. */
  static boolean isHeld(Hold[] hs, boolean v6, long hi, long lo) {
    for (Hold h : hs) {
      if (h.isOldNamespaceIp(v6, hi, lo)) {
        return true;
      }
    }
    return false;
  }

  /**
   * A packet for a held instance's old namespace IP: held, dropped (counted) or forwarded.
   * Returns false for every other packet. A first packet of a flow this node has not seen yet
   * ({@code newFrom}, its peer) is learned as if delivered, so the new node's replies to it, which
   * come back through here, can be relayed to that peer.
   */
  boolean held(ThreadScratch w, PacketView pv, Hold[] hs, WorkerEndpoint newFrom) {
    boolean v6 = pv.isIpv6();
    long hi = pv.dstHi();
    long lo = pv.dstLo();
    for (Hold h : hs) {
      if (!h.isOldNamespaceIp(v6, hi, lo)) {
        continue;
      }
      InstanceIp own = newFrom == null ? null : v6 ? h.instance.instanceIpv6() : h.instance.instanceIpv4();
      if (own != null) {
        setup.learnFlow(w, pv, newFrom, own, forwarder.now());
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
  boolean relayed(ThreadScratch w, PacketView pv, WorkerEndpoint peer, Hold[] hs) {
    boolean v6 = pv.isIpv6();
    for (Hold h : hs) {
      if (!h.isInstanceIp(v6, pv.srcHi(), pv.srcLo())) {
        continue;
      }
      Half back = table.find(Half.EGRESS, v6, pv.protocol(), v6 ? h.oldV6Hi : 0, v6 ? h.oldV6Lo : h.oldV4,
          pv.dstHi(), pv.dstLo(), pv.srcPort(), pv.dstPort());
      if (back == null || back.nextHop == null) {
        return false;
      }
      if (!SourceCheck.sameNode(h.hop, peer)) {
        // Only the instance's new place speaks for it (cryptokey routing); not before its release.
        w.counts[Counter.DROP_RELAY_NOT_NEW_PLACE.ordinal()]++;
        return true;
      }
      if (back.nextHop.equals(peer) || tunnel == null) {
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
  private void sendOn(ThreadScratch w, Hold h, PacketView pv) {
    Locator to = h.to;
    boolean v6 = pv.isIpv6();
    InetAddress target = to.namespaceIp(!v6);
    if (target == null) {
      w.counts[Counter.DROP_NO_LOCAL_INSTANCE.ordinal()]++;
      return;
    }
    long tHi = AddressWords.hi(target);
    long tLo = AddressWords.lo(target);
    if (tHi != pv.dstHi() || tLo != pv.dstLo()) {
      int d = Half.addressDelta(v6, pv.srcHi(), pv.srcLo(), pv.dstHi(), pv.dstLo(), pv.srcHi(), pv.srcLo(), tHi, tLo);
      AddressRewriter.rewrite(pv, v6, pv.protocol(), pv.srcHi(), pv.srcLo(), tHi, tLo, d, false);
    }
    ByteBuffer b = pv.buffer();
    WorkerEndpoint hop = h.hop;
    if (hop == null) {
      forwarder.ingress(w, b, pv.start(), pv.end(), null);
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

  // ---------------------------------------------------------------- control thread

  /**
   * A newer locator for a held instance: release it, or follow a further move. With {@code home}
   * the instance was attached on this node again (the move was called off, or it came back), so
   * whatever its version says, packets are delivered here. Control thread.
   */
  private void moved(Hold h, Locator to, boolean home) {
    if (home || to.isNewerThan(h.from) && (h.to == null || to.isNewerThan(h.to))) {
      released(h, to, home);
    }
  }

  /** Releases {@code h} to {@code to} without a version check (the destination's signal, or via {@link #moved}). Control thread. */
  private void released(Hold h, Locator to, boolean home) {
    try {
      release(h, to, home);
    } catch (RuntimeException e) {
      log.warn("releasing {} to {} failed", h.key, to, e);
    }
  }

  private void release(Hold h, Locator to, boolean home) {
    if (!control.started()) {
      return;
    }
    InetAddress t = to.namespaceIpv4() != null ? to.namespaceIpv4() : to.namespaceIpv6();
    WorkerEndpoint hop = home ? null : wiring.nextHop(t, to);
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
      if (now - h.readyWaitSince < READY_WAIT_NANOS && control.schedule(() -> released(h, to, home), 1)) {
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
   * Replays up to {@link #REPLAY_BATCH} held packets per millisecond, in order, then comes back a
   * millisecond later for the next batch: a whole freeze's worth of packets at once would overflow
   * the queues on the way (a tunnel link's, a device's transmit queue, the instance's socket). A
   * batch that comes late (a busy machine) takes the milliseconds it missed too, up to
   * {@link #REPLAY_CATCH_UP} batches, so the replay keeps its rate. Packets that arrive meanwhile
   * queue behind the held ones. Control thread.
   */
  private void replay(Hold h) {
    ThreadScratch w = scratches.get();
    w.beginSection(); // may be called from an API thread: flows it reads stay unrecycled until done
    try {
      replayBatch(h, w);
    } finally {
      w.endSection();
    }
  }

  private void replayBatch(Hold h, ThreadScratch w) {
    ByteBuffer buf = w.parkBuffer();
    long t = System.nanoTime();
    long late = h.lastReplayNanos == 0 ? 1 : (t - h.lastReplayNanos) / 1_000_000L;
    h.lastReplayNanos = t;
    int batch = REPLAY_BATCH * (int) Math.max(1, Math.min(REPLAY_CATCH_UP, late));
    int len = 0;
    for (int n = 0; n < batch && (len = h.take(buf)) >= 0; n++) {
      if (w.pv.parse(buf, 0, len) != 0) {
        continue;
      }
      h.replayed.incrementAndGet();
      w.counts[Counter.MIGRATION_REPLAYED.ordinal()]++;
      sendOn(w, h, w.pv);
    }
    forwarder.flush(w);
    if (len >= 0 || !h.finishIfEmpty(System.nanoTime())) {
      Runnable next = () -> {
        try {
          replay(h);
        } catch (RuntimeException e) {
          log.warn("replaying the held packets of {} failed", h.key, e);
        }
      };
      if (!control.schedule(next, 1)) {
        replay(h);
      }
      return;
    }
    endReplay(w, h, buf);
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
   * Sends the replay-end marker behind the last replayed packet (see {@link ReplayGates}): the new
   * place stops holding back the packets of senders that already switched. Sent for a hold that
   * buffered nothing, too. Control thread.
   */
  private void endReplay(ThreadScratch w, Hold h, ByteBuffer buf) {
    WorkerEndpoint hop = h.hop;
    int len = ReplayGates.writeMarker(buf, h);
    if (hop == null || tunnel == null || len < 0) {
      return;
    }
    buf.limit(len).position(0);
    tunnel.send(hop, buf);
    w.counts[Counter.SENT_TUNNEL.ordinal()]++;
    w.counts[Counter.MIGRATION_REPLAY_END_SENT.ordinal()]++;
    tunnel.flush();
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
      holds = next.toArray(NONE);
    }
    if (!forgetFlows) {
      return;
    }
    List<Flow> stale = new ArrayList<>();
    table.forEach(x -> {
      if (x.dir == Half.INGRESS && !x.flow.client && h.isOldNamespaceIp(x.v6, x.dHi, x.dLo)) {
        stale.add(x.flow);
      }
    });
    stale.forEach(flows::remove);
  }

  /** Releases holds whose instance the pushed record shows at a newer place. Control thread. */
  void checkHolds(ServiceRecord current) {
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
      for (Hold h : holds) {
        if (h.key.equals(instance.key())) {
          control.execute(() -> moved(h, instance.locator(), true));
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
  void sweep(ThreadScratch w) {
    if (holds.length == 0) {
      return;
    }
    long t = System.nanoTime();
    for (Hold h : holds) {
      if (h.state == Hold.FORWARDING && t - Math.max(h.drainedAtNanos, h.lastLateNanos) > holdLingerNanos) {
        dropHold(h, true);
      } else if (h.state == Hold.FROZEN && t - h.frozenAtNanos > holdLingerNanos) {
        int n = h.heldPackets();
        h.overflowed.addAndGet(n);
        w.counts[Counter.DROP_MIGRATION_OVERFLOW.ordinal()] += n;
        dropHold(h, true);
        log.warn("{} stayed frozen for {} ms without a new locator: {} held packets dropped", h.key,
            (t - h.frozenAtNanos) / 1_000_000, n);
      }
    }
  }
}
