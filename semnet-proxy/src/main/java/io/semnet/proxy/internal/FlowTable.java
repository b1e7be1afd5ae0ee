package io.semnet.proxy.internal;

import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;

/**
 * Hash table of flow halves with lock-free, allocation-free lookups: readers walk volatile bucket
 * chains; inserts, removals and replacements are made holding the table's monitor (the callers,
 * {@link Flows}, take it once for all the changes of one operation). Halves are not changed while
 * published.
 */
final class FlowTable {
  private final AtomicReferenceArray<Half> buckets;
  private final int mask;
  private int size;

  FlowTable(int expectedHalves) {
    int n = Integer.highestOneBit(Math.max(16, expectedHalves) * 2 - 1);
    if (n < expectedHalves * 2) {
      n <<= 1;
    }
    buckets = new AtomicReferenceArray<>(n);
    mask = n - 1;
  }

  Half find(int dir, boolean v6, int proto, long sHi, long sLo, long dHi, long dLo, int sp, int dp) {
    int h = Half.hash(dir, v6, proto, sHi, sLo, dHi, dLo, sp, dp);
    for (Half e = buckets.get(h & mask); e != null; e = e.next) {
      if (e.hash == h && e.matches(dir, v6, proto, sHi, sLo, dHi, dLo, sp, dp)) {
        return e;
      }
    }
    return null;
  }

  /** Inserts unless an entry with the same key exists; returns the existing one, or null on success. Caller holds the monitor. */
  Half insert(Half n) {
    assert Thread.holdsLock(this);
    int i = n.hash & mask;
    for (Half e = buckets.get(i); e != null; e = e.next) {
      if (e.hash == n.hash && e.matches(n.dir, n.v6, n.proto, n.sHi, n.sLo, n.dHi, n.dLo, n.sp, n.dp)) {
        return e;
      }
    }
    // Publication needs release order only (a reader that finds n sees its fields and its next),
    // so neither store pays a full fence: n is not reachable before the bucket store, and the
    // bucket store is a release. Removals stay volatile: recycling's grace period relies on an
    // unlinking being ordered before the epochs are read (see FlowPool).
    Half.NEXT.set(n, buckets.get(i));
    buckets.lazySet(i, n);
    size++;
    return null;
  }

  /** Removes exactly this half (by identity); true if it was present. Caller holds the monitor. */
  boolean remove(Half h) {
    assert Thread.holdsLock(this);
    int i = h.hash & mask;
    Half prev = null;
    for (Half e = buckets.get(i); e != null; e = e.next) {
      if (e == h) {
        // Copy-on-write of the chain prefix would keep concurrent readers exact; unlinking is
        // enough because a reader positioned on h still follows h.next to the rest.
        if (prev == null) {
          buckets.set(i, e.next);
        } else {
          prev.next = e.next;
        }
        size--;
        return true;
      }
      prev = e;
    }
    return false;
  }

  /** Replaces {@code old} by {@code replacement} (same key) atomically for readers. Caller holds the monitor. */
  void replace(Half old, Half replacement) {
    remove(old);
    insert(replacement);
  }

  synchronized int size() {
    return size;
  }

  int bucketCount() {
    return mask + 1;
  }

  /** Visits the entries of bucket {@code i} (no lock; for sweeping). */
  void forEachIn(int i, Consumer<Half> c) {
    for (Half e = buckets.get(i); e != null; e = e.next) {
      c.accept(e);
    }
  }

  /** Visits every entry, bucket by bucket (no lock; for control-plane scans). */
  void forEach(Consumer<Half> c) {
    for (int i = 0; i <= mask; i++) {
      forEachIn(i, c);
    }
  }

  /** The first entry of bucket {@code i}, for sampling. */
  Half head(int i) {
    return buckets.get(i & mask);
  }

  /**
   * Empties the table in one pass, visiting every entry it held. Caller holds the monitor, so the
   * buckets are read in plain mode (most are empty: the scan is most of a clear's cost). They are emptied with release stores and one full fence at the end, which orders every
   * unlinking before whatever the caller reads next, as a volatile store per bucket would (see
   * {@link #insert} on why removals need that order).
   */
  void drain(Consumer<Half> c) {
    assert Thread.holdsLock(this);
    for (int i = 0; i <= mask; i++) {
      Half e = buckets.getPlain(i); // the monitor excludes every other writer
      if (e != null) {
        buckets.lazySet(i, null);
        for (; e != null; e = e.next) {
          c.accept(e);
        }
      }
    }
    VarHandle.fullFence();
    size = 0;
  }
}
