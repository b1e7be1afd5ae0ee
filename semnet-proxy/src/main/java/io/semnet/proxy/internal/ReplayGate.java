package io.semnet.proxy.internal;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.record.InstanceKey;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.proxy.internal.packet.AddressWords;
import java.net.InetAddress;
import java.nio.ByteBuffer;

/**
 * The destination node's state for one instance restored here from another node ({@link #from}):
 * packets for it that arrive from any other peer (senders that already applied the new locator)
 * wait in a bounded FIFO until the previous place's replay ended, so they do not overtake the
 * packets the previous place held, replays or still forwards. Open → draining → closed, like a
 * {@link Hold}: packets arriving while it drains queue behind the waiting ones; it closes only once
 * the FIFO is empty and what it sent was flushed.
 *
 * <p>The FIFO is one direct buffer, allocated when the first packet waits (never for a move that
 * needs none), length-prefixed packets back to back plus the peer each came from. Appends and takes
 * are short copies under this object's monitor.
 */
final class ReplayGate {
  static final int OPEN = 0;
  static final int DRAINING = 1;
  static final int CLOSED = 2;

  final InstanceKey key;
  /** The node the instance was restored from: its packets are never held, its marker ends the wait. */
  final String from;
  final long openedAtNanos;
  private final boolean hasV4;
  private final long v4;
  private final boolean hasV6;
  private final long v6Hi;
  private final long v6Lo;
  private final boolean hasIip4;
  private final long iip4;
  private final boolean hasIip6;
  private final long iip6Hi;
  private final long iip6Lo;
  private final int maxPackets;
  private final int maxBytes;

  private ByteBuffer store;
  private WorkerEndpoint[] peers;
  private int writePos;
  private int readPos;
  private int held;
  private int readIndex;
  /** Guarded by this; read racily by the data path only to pick the fast path. */
  volatile int state = OPEN;
  /** When the first packet started waiting (0: none yet). Guarded by this. */
  long firstHeldNanos;
  /** When a packet from {@link #from} (its replay) last passed: the wait's bound counts from there. */
  volatile long progressNanos;
  /** Nodes that sent packets for the instance here directly (they applied the new locator); copy-on-write. */
  private volatile WorkerEndpoint[] direct = new WorkerEndpoint[0];

  ReplayGate(InstanceRecord restored, String from, int maxPackets, int maxBytes, long now) {
    this.key = restored.key();
    this.from = from;
    this.openedAtNanos = now;
    Locator here = restored.locator();
    InetAddress a4 = here == null ? null : here.namespaceIpv4();
    InetAddress a6 = here == null ? null : here.namespaceIpv6();
    this.hasV4 = a4 != null;
    this.v4 = hasV4 ? AddressWords.lo(a4) : 0;
    this.hasV6 = a6 != null;
    this.v6Hi = hasV6 ? AddressWords.hi(a6) : 0;
    this.v6Lo = hasV6 ? AddressWords.lo(a6) : 0;
    this.hasIip4 = restored.instanceIpv4() != null;
    this.iip4 = hasIip4 ? AddressWords.lo(restored.instanceIpv4().address()) : 0;
    this.hasIip6 = restored.instanceIpv6() != null;
    this.iip6Hi = hasIip6 ? AddressWords.hi(restored.instanceIpv6().address()) : 0;
    this.iip6Lo = hasIip6 ? AddressWords.lo(restored.instanceIpv6().address()) : 0;
    this.maxPackets = maxPackets;
    this.maxBytes = maxBytes;
  }

  /** True if {@code (hi, lo)} is one of the instance's namespace IPs here. */
  boolean isNamespaceIp(boolean v6, long hi, long lo) {
    return v6 ? hasV6 && lo == v6Lo && hi == v6Hi : hasV4 && lo == v4;
  }

  /** True if {@code (hi, lo)} is one of the instance's InstanceIPs. */
  boolean isInstanceIp(boolean v6, long hi, long lo) {
    return v6 ? hasIip6 && lo == iip6Lo && hi == iip6Hi : hasIip4 && lo == iip4;
  }

  /**
   * Queues a packet from {@code peer}.
   *
   * @return 1 if queued (2 if it is the first: the caller arms the time bound), 0 if the FIFO is
   *     full (the bound is hit: the caller drains and lets the packet pass), -1 if closed
   */
  synchronized int append(ByteBuffer b, int start, int length, WorkerEndpoint peer, long now) {
    if (state == CLOSED) {
      return -1;
    }
    if (store == null) {
      store = ByteBuffer.allocateDirect(maxBytes);
      peers = new WorkerEndpoint[maxPackets];
    }
    if (held >= maxPackets || writePos + 2 + length > store.capacity()) {
      return 0;
    }
    store.putShort(writePos, (short) length);
    store.put(writePos + 2, b, start, length);
    writePos += 2 + length;
    peers[(readIndex + held) % maxPackets] = peer;
    held++;
    if (firstHeldNanos == 0) {
      firstHeldNanos = now;
      return 2;
    }
    return 1;
  }

  /** Starts draining; false if already draining or closed. */
  synchronized boolean startDraining() {
    if (state != OPEN) {
      return false;
    }
    state = DRAINING;
    return true;
  }

  /**
   * Copies the oldest waiting packet into {@code into} at 0, stores its peer in {@code peer[0]} and
   * returns its length, or -1 if none waits.
   */
  synchronized int take(ByteBuffer into, WorkerEndpoint[] peer) {
    if (held == 0) {
      return -1;
    }
    int len = store.getShort(readPos) & 0xffff;
    into.clear();
    into.put(0, store, readPos + 2, len);
    readPos += 2 + len;
    peer[0] = peers[readIndex];
    peers[readIndex] = null;
    readIndex = (readIndex + 1) % maxPackets;
    held--;
    return len;
  }

  /** Closes the gate if nothing waits any more (after the caller flushed what it sent); frees the FIFO. */
  synchronized boolean closeIfEmpty() {
    if (held != 0) {
      return false;
    }
    state = CLOSED;
    store = null;
    peers = null;
    return true;
  }

  /** Remembers that {@code peer} sends here directly (at most 64 nodes are remembered). */
  void sawDirect(WorkerEndpoint peer) {
    for (WorkerEndpoint d : direct) {
      if (d.nodeId().equals(peer.nodeId())) {
        return;
      }
    }
    synchronized (this) {
      WorkerEndpoint[] d = direct;
      if (d.length < 64) {
        WorkerEndpoint[] n = java.util.Arrays.copyOf(d, d.length + 1);
        n[d.length] = peer;
        direct = n;
      }
    }
  }

  /** The nodes seen sending here directly. */
  WorkerEndpoint[] direct() {
    return direct;
  }

  /** Packets waiting now. */
  synchronized int waiting() {
    return held;
  }
}
