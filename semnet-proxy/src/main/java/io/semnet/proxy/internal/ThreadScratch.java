package io.semnet.proxy.internal;

import io.semnet.proxy.Counter;
import io.semnet.proxy.internal.packet.PacketView;
import java.nio.ByteBuffer;

/**
 * Lets a data-path thread translate packets without sharing anything it writes per packet: the
 * parse state of the packet in hand, buffers to build and copy packets in, the thread's counters
 * and whether the tunnel or the TUN needs a flush at the end of the batch. Every part of the
 * translator that touches a packet takes the current thread's scratch as its first argument.
 *
 * <h2>Which thread owns it</h2>
 *
 * A scratch belongs to exactly one thread, {@link #thread}: the TUN reader, the tunnel's receive
 * thread, a resolver thread releasing parked packets, or the control thread (sweeps, replaying
 * held packets). It is created the first time that thread enters the translator
 * ({@link ThreadScratches#get}) and only that thread reads or writes its fields. The
 * exceptions are {@link #counts} and {@link #tallyBytes}: other threads sum them for {@code SemnetTranslator#counter}, racily
 * (a reader may see a count a little behind, never a torn or lost one, since only the owner
 * writes).
 *
 * <h2>Lifetime</h2>
 *
 * A scratch lives as long as its translator: it stays registered (its counts must keep adding up)
 * after its thread ends. The state in {@link #pv}, {@link #inner} and {@link #found} describes
 * only the packet being handled and is overwritten by the next one, including a nested one: a
 * packet looped back to this node is parsed again into the same {@link #pv} before the outer call
 * returns, so nothing read from {@code pv} is valid after a call that may loop back or reparse
 * (ingress, egress, sending an ICMP error).
 *
 * <h2>What you may keep</h2>
 *
 * Nothing beyond the call that handles one packet: not the parsed views, not {@link #found}, not
 * the buffers (their contents are the next packet's). To keep a packet past the call, copy its
 * bytes (parking and the migration FIFO do). Values read out of it (addresses, ports) may be kept;
 * a {@link Half} or {@link Flow} only until the thread's next quiescent point (below). The buffers
 * themselves are reused for the whole life of the thread, so the data path allocates nothing per
 * packet.
 *
 * <h2>Quiescent points (flow recycling)</h2>
 *
 * Removed flows are recycled ({@link Flows}) once every thread that could still hold one has been
 * quiescent since: {@link #epoch} is odd while the thread may hold halves or flows and even after
 * {@link #quiesce}. {@link #enter} (a volatile write, so it is ordered before the table reads that
 * follow) happens before every table read; it is a plain read when the thread is already inside,
 * so a batch pays one fence. A thread quiesces at the end of a batch or of a control-plane task,
 * never inside a packet's handling ({@code onPacket}/{@code onData}) or a read section
 * ({@link #depth}, {@link #beginSection}). A new scratch starts
 * inside: a thread that never quiesces only stops recycling (flows are then allocated), never
 * makes it unsafe; a scratch whose thread has ended counts as quiescent.
 */
final class ThreadScratch {
  /** The owning thread (null only for the placeholder that no thread owns). */
  final Thread thread;
  /** The packet being handled, parsed in place. */
  final PacketView pv = new PacketView();
  /** The packet quoted inside an ICMP error being translated. */
  final PacketView inner = new PacketView();
  /** Where ICMP errors this node sends are built (576 or 1280 bytes at most). */
  final ByteBuffer icmpOut = ByteBuffer.allocateDirect(1400);
  /** This thread's counts, indexed by {@link Counter#ordinal()}. */
  final long[] counts = new long[Counter.values().length];
  /**
   * IP bytes of client flows this thread translated, by {@link ServiceTallies.Tally#index}; like
   * {@link #counts}, written only by the owner and summed racily by readers.
   */
  final long[] tallyBytes = new long[ServiceTallies.DEFAULT_CAP + 1];
  /** Addresses of recent new flows, so that setting up a flow allocates no {@code InetAddress}. */
  final AddressCache addresses = new AddressCache();
  /** The flow half {@code Forwarder.lookup} found for the packet being handled. */
  Half found;
  /** The route of a parked packet's source, while the packet comes back through the path (else null). */
  io.semnet.core.route.Route srcRoute;
  /** True while packets that waited at a {@link ReplayGate} go through the ingress path again. */
  boolean bypassGate;
  /** Packets were handed to the tunnel since the last flush. */
  boolean tunnelDirty;
  /** Packets were written to the TUN since the last flush. */
  boolean ioDirty;
  /** Odd while this thread may hold flows or halves, even once it quiesced; written only by the owner. */
  volatile long epoch = 1;
  /** Nesting of packet handling ({@code onPacket}/{@code onData}) and read sections on this thread. */
  int depth;
  /** Recycled flows this thread may take without a lock ({@link FlowPool}): {@code spares[0..spareCount)}. */
  final Flow[] spares = new Flow[FlowPool.CHUNK];
  int spareCount;
  /** New flows to allocate before asking for recycled ones again (the pool was dry). */
  int freshLeft;
  /** Where parked and held packets are copied back to before being sent; created on first use. */
  private ByteBuffer park;

  ThreadScratch(Thread thread) {
    this.thread = thread;
  }

  /** Before reading the flow table: marks this thread as possibly holding flows (one fence per batch). */
  void enter() {
    long e = epoch;
    if ((e & 1) == 0) {
      epoch = e + 1;
    }
  }

  /** A quiescent point: this thread holds no flow or half any more (unless nested, {@link #depth}). */
  void quiesce() {
    long e = epoch;
    if ((e & 1) != 0 && depth == 0) {
      EPOCH.lazySet(this, e + 1);
    }
  }

  /**
   * The end of a batch of packets (TUN reads or tunnel receives): always a quiescent point. Also
   * forgets the nesting a packet that threw left behind ({@code onPacket}/{@code onData} count it
   * without a {@code finally}, to keep the per-packet path small).
   */
  void endBatch() {
    depth = 0;
    quiesce();
  }

  /** Starts a read section (a control task, a release of parked packets): enters, nests. */
  void beginSection() {
    depth++;
    enter();
  }

  /** Ends a read section; the outermost one is a quiescent point. */
  void endSection() {
    if (--depth == 0) {
      quiesce();
    }
  }

  private static final java.util.concurrent.atomic.AtomicLongFieldUpdater<ThreadScratch> EPOCH =
      java.util.concurrent.atomic.AtomicLongFieldUpdater.newUpdater(ThreadScratch.class, "epoch");

  /** The buffer packets kept off the data path are copied into to be sent (64 KiB, direct). */
  ByteBuffer parkBuffer() {
    if (park == null) {
      park = ByteBuffer.allocateDirect(65536);
    }
    return park;
  }
}
