package io.semnet.proxy.internal;

import java.util.Arrays;

/**
 * Recycled {@link Flow} objects (each with its two {@link Half}s), so that a new flow allocates
 * nothing: quiescent-state-based reclamation over the threads' {@link ThreadScratch#epoch}s.
 *
 * <p>A removed flow is <em>pending</em>. When a thread finds no free flow, the pending ones
 * become <em>waiting</em> together with a snapshot of every registered thread's epoch; they become
 * <em>free</em> once each of those threads was outside the table at the snapshot (even epoch), has
 * passed a quiescent point since (its epoch moved), or has ended. A thread that entered after the
 * snapshot entered after the flows were unlinked (its {@link ThreadScratch#enter} is a volatile
 * write, the unlinking happened before the snapshot's volatile reads), so it cannot find them. So
 * no reader can still hold a free flow or its halves.
 *
 * <p>Each list is an array of at most {@code maxFlows} references and moving a list is swapping
 * arrays, so recycling touches a flow object only when it is removed and when it is reused. Past
 * the bound, removed flows are left to the garbage collector. A reused flow's {@link Flow#gen}
 * moves before it is initialised; a flow that still owns fragment entries is not reused.
 *
 * <p>Every method but {@link #obtain} runs under the table's monitor.
 */
final class FlowPool {
  /** Flows a thread takes from the free list at once (its {@link ThreadScratch#spares}). */
  static final int CHUNK = 64;
  /** New flows a thread allocates before asking again when the pool was dry. */
  private static final int DRY_BACKOFF = 16;

  private final Object lock;
  private final int max;
  private final ThreadScratches scratches;
  private Flow[] pending = new Flow[16];
  private int pendingCount;
  private Flow[] waiting = new Flow[16];
  private int waitingCount;
  private Flow[] free = new Flow[16];
  private int freeCount;
  private ThreadScratch[] snapThreads = new ThreadScratch[0];
  private long[] snapEpochs = new long[8];
  private long recycled;

  FlowPool(Object lock, int maxFlows, ThreadScratches scratches) {
    this.lock = lock;
    this.max = maxFlows;
    this.scratches = scratches;
  }

  /**
   * A flow object for a new conversation, to be initialised by the caller: one of the thread's
   * spares, else a chunk taken from the free list (one lock per {@link #CHUNK} flows), else new.
   */
  Flow obtain(ThreadScratch w) {
    while (true) {
      if (w.spareCount == 0) {
        if (w.freshLeft > 0) {
          w.freshLeft--;
          return fresh();
        }
        synchronized (lock) {
          take(w);
        }
        if (w.spareCount == 0) {
          w.freshLeft = DRY_BACKOFF; // dry: do not ask again for a while
          return fresh();
        }
      }
      Flow f = w.spares[--w.spareCount];
      w.spares[w.spareCount] = null;
      // A fragment entry may still point at it (one was added while it was being removed).
      if (f.fragments == 0) {
        return f;
      }
    }
  }

  private static Flow fresh() {
    Flow f = new Flow();
    f.out = new Half(Half.EGRESS, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, null, f, 0);
    f.in = new Half(Half.INGRESS, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, null, f, 0);
    return f;
  }

  /** Queues a removed flow (its {@code removed} set) for reuse; past the bound it is left to the GC. */
  void retire(Flow f) {
    if (pendingCount < max) {
      if (pendingCount == pending.length) {
        pending = Arrays.copyOf(pending, Math.min(max, pending.length * 2));
      }
      pending[pendingCount++] = f;
    }
  }

  /** Moves up to {@link #CHUNK} free flows to {@code w}'s spares, reclaiming first if none is free. */
  private void take(ThreadScratch w) {
    if (freeCount == 0) {
      reclaim();
    }
    int n = Math.min(CHUNK, freeCount);
    for (int i = 0; i < n; i++) {
      Flow f = free[--freeCount];
      free[freeCount] = null;
      f.gen++; // before it is initialised: whoever kept the old conversation sees the change
      w.spares[i] = f;
    }
    w.spareCount = n;
    recycled += n;
  }

  /** Frees the waiting flows once their grace period is over; then starts one for the pending flows. */
  private void reclaim() {
    if (waitingCount > 0 && graceOver()) {
      Flow[] t = free; // empty
      free = waiting;
      freeCount = waitingCount;
      waiting = t;
      waitingCount = 0;
    }
    if (waitingCount == 0 && pendingCount > 0) {
      Flow[] t = waiting; // empty
      waiting = pending;
      waitingCount = pendingCount;
      pending = t;
      pendingCount = 0;
      ThreadScratch[] ts = scratches.array();
      if (snapEpochs.length < ts.length) {
        snapEpochs = new long[ts.length * 2];
      }
      for (int i = 0; i < ts.length; i++) {
        snapEpochs[i] = ts[i].epoch;
      }
      snapThreads = ts;
    }
  }

  /** True if every thread of the snapshot was outside then, has quiesced since, or has ended. */
  private boolean graceOver() {
    ThreadScratch[] ts = snapThreads;
    for (int i = 0; i < ts.length; i++) {
      long e = snapEpochs[i];
      if ((e & 1) != 0 && ts[i].epoch == e && ts[i].thread != null && ts[i].thread.isAlive()) {
        return false;
      }
    }
    return true;
  }

  /** Flows handed out again so far. */
  long recycled() {
    return recycled;
  }
}
