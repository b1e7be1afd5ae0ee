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
 * ({@link ThreadScratches#get}) and only that thread reads or writes its fields. The single
 * exception is {@link #counts}: other threads sum it for {@code SemnetTranslator#counter}, racily
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
 * bytes (parking and the migration FIFO do). Values read out of it (addresses, ports, a
 * {@link Half}, which is immutable) may be kept. The buffers themselves are reused for the whole
 * life of the thread, so the data path allocates nothing per packet.
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
  /** Where parked and held packets are copied back to before being sent; created on first use. */
  private ByteBuffer park;

  ThreadScratch(Thread thread) {
    this.thread = thread;
  }

  /** The buffer packets kept off the data path are copied into to be sent (64 KiB, direct). */
  ByteBuffer parkBuffer() {
    if (park == null) {
      park = ByteBuffer.allocateDirect(65536);
    }
    return park;
  }
}
