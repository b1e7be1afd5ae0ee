package io.semnet.proxy.internal;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.record.InstanceKey;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.proxy.MigrationHoldStats;
import io.semnet.proxy.internal.packet.AddressWords;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The source node's state for one instance that is migrating away: which packets are its (its old
 * namespace IPs as destination, its InstanceIPs as source of relayed replies), the bounded FIFO of
 * packets held while it is frozen, and where to send them once it is restored.
 *
 * <p>The FIFO is one preallocated direct buffer holding length-prefixed packets back to back: it is
 * only appended to while frozen and read once, in order, at release, so it needs no wrap-around.
 * Appends and takes are short copies under this object's monitor (data-path threads and the
 * releasing control thread); nothing under the monitor waits for I/O or the control plane.
 */
final class Hold {
  static final int FROZEN = 0;
  static final int DRAINING = 1;
  static final int FORWARDING = 2;

  final InstanceRecord instance;
  final InstanceKey key;
  final Locator from;
  final boolean hasV4;
  final long oldV4;
  final boolean hasV6;
  final long oldV6Hi;
  final long oldV6Lo;
  final long iip4;
  final boolean hasIip4;
  final long iip6Hi;
  final long iip6Lo;
  final boolean hasIip6;
  final long frozenAtNanos;
  final int maxPackets;
  /** False when this migration drops packets during the freeze instead of holding them. */
  final boolean buffers;

  /** The FIFO, or null when buffering is off (packets during the freeze are dropped and counted). */
  private ByteBuffer store;
  private int writePos;
  private int readPos;
  private int held;
  /** Guarded by this; read racily by the data path only to pick the fast path. */
  volatile int state = FROZEN;

  /** Where packets go after release: null before; the new locator's worker, or null hop = local. */
  volatile Locator to;
  volatile WorkerEndpoint hop;
  volatile long releasedAtNanos;
  volatile long drainedAtNanos;
  volatile long lastLateNanos;
  /** The node the orchestrator named as the destination at the freeze, or null. */
  volatile WorkerEndpoint destination;
  /** When the last replay batch was sent (control thread only). */
  long lastReplayNanos;
  /** When the release first found the tunnel link to the new place not ready (control thread only). */
  long readyWaitSince;

  final AtomicLong buffered = new AtomicLong();
  final AtomicLong replayed = new AtomicLong();
  final AtomicLong overflowed = new AtomicLong();
  final AtomicLong droppedFrozen = new AtomicLong();
  final AtomicLong forwardedLate = new AtomicLong();
  final AtomicLong relayed = new AtomicLong();

  Hold(InstanceRecord instance, ByteBuffer store, int maxPackets, long now) {
    this.instance = instance;
    this.key = instance.key();
    this.from = instance.locator();
    InetAddress v4 = from.namespaceIpv4();
    InetAddress v6 = from.namespaceIpv6();
    this.hasV4 = v4 != null;
    this.oldV4 = hasV4 ? AddressWords.lo(v4) : 0;
    this.hasV6 = v6 != null;
    this.oldV6Hi = hasV6 ? AddressWords.hi(v6) : 0;
    this.oldV6Lo = hasV6 ? AddressWords.lo(v6) : 0;
    this.hasIip4 = instance.instanceIpv4() != null;
    this.iip4 = hasIip4 ? AddressWords.lo(instance.instanceIpv4().address()) : 0;
    this.hasIip6 = instance.instanceIpv6() != null;
    this.iip6Hi = hasIip6 ? AddressWords.hi(instance.instanceIpv6().address()) : 0;
    this.iip6Lo = hasIip6 ? AddressWords.lo(instance.instanceIpv6().address()) : 0;
    this.store = store;
    this.buffers = store != null;
    this.maxPackets = maxPackets;
    this.frozenAtNanos = now;
  }

  /** True if {@code (hi, lo)} of the given family is one of the instance's old namespace IPs. */
  boolean isOldNamespaceIp(boolean v6, long hi, long lo) {
    return v6 ? hasV6 && lo == oldV6Lo && hi == oldV6Hi : hasV4 && lo == oldV4;
  }

  /** True if {@code (hi, lo)} is one of the instance's InstanceIPs. */
  boolean isInstanceIp(boolean v6, long hi, long lo) {
    return v6 ? hasIip6 && lo == iip6Lo && hi == iip6Hi : hasIip4 && lo == iip4;
  }

  /**
   * Appends a packet while the instance is frozen or its FIFO is draining.
   *
   * @return 1 if held, 0 if it overflowed (or buffering is off), -1 if the hold is already
   *     forwarding and the caller must forward the packet itself
   */
  synchronized int append(ByteBuffer b, int start, int length) {
    if (state == FORWARDING) {
      return -1;
    }
    if (store == null) {
      return 0;
    }
    if (held >= maxPackets || writePos + 2 + length > store.capacity()) {
      return 0;
    }
    store.putShort(writePos, (short) length);
    store.put(writePos + 2, b, start, length);
    writePos += 2 + length;
    held++;
    return 1;
  }

  /** Starts the release: later appends still queue behind the held packets until the FIFO is empty. */
  synchronized boolean startDraining(Locator target, WorkerEndpoint nextHop, long now) {
    if (state != FROZEN) {
      return false;
    }
    to = target;
    hop = nextHop;
    releasedAtNanos = now;
    state = DRAINING;
    return true;
  }

  /**
   * Copies the oldest held packet into {@code into} at 0 and returns its length, or returns -1 when
   * the FIFO is empty (the caller flushes what it replayed, then calls {@link #finishIfEmpty}).
   */
  synchronized int take(ByteBuffer into) {
    if (store == null || readPos == writePos) {
      return -1;
    }
    int len = store.getShort(readPos) & 0xffff;
    into.clear();
    into.put(0, store, readPos + 2, len);
    readPos += 2 + len;
    held--;
    return len;
  }

  /**
   * Switches to forwarding if nothing was appended since the last {@link #take}: only after the
   * replayed packets were flushed, so a late packet forwarded by the data path never overtakes them.
   */
  synchronized boolean finishIfEmpty(long now) {
    if (store != null && readPos != writePos) {
      return false;
    }
    state = FORWARDING;
    drainedAtNanos = now;
    return true;
  }

  /** Hands the FIFO's buffer back (once forwarding), for reuse by the next migration. */
  synchronized ByteBuffer releaseStore() {
    if (state != FORWARDING) {
      return null;
    }
    ByteBuffer s = store;
    store = null;
    return s;
  }

  /** Packets currently held. */
  synchronized int heldPackets() {
    return held;
  }

  MigrationHoldStats stats() {
    return new MigrationHoldStats(key, from, to, state == FROZEN ? "frozen" : state == DRAINING ? "draining" : "forwarding",
        buffered.get(), replayed.get(), overflowed.get(), droppedFrozen.get(), forwardedLate.get(), relayed.get(),
        frozenAtNanos, releasedAtNanos, drainedAtNanos);
  }
}
