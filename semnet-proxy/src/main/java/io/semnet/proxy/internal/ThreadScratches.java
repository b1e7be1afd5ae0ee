package io.semnet.proxy.internal;

import io.semnet.proxy.Counter;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The {@link ThreadScratch} of every thread that entered one translator, and the sums of their
 * counters. Counter sums are eventually consistent: each count is written by one thread and read
 * by others without synchronisation.
 */
public final class ThreadScratches {
  private final CopyOnWriteArrayList<ThreadScratch> all = new CopyOnWriteArrayList<>();
  private final ThreadLocal<ThreadScratch> mine = ThreadLocal.withInitial(this::create);
  private volatile ThreadScratch[] array = new ThreadScratch[0];

  /** The calling thread's scratch, created and registered on its first call. */
  ThreadScratch get() {
    return mine.get();
  }

  /** Every registered scratch (a new array after each registration; never modified). */
  ThreadScratch[] array() {
    return array;
  }

  /** The value of {@code c} summed over all threads. */
  public long count(Counter c) {
    long n = 0;
    for (ThreadScratch w : all) {
      n += w.counts[c.ordinal()];
    }
    return n;
  }

  private ThreadScratch create() {
    ThreadScratch w = new ThreadScratch(Thread.currentThread());
    all.add(w);
    synchronized (all) {
      array = all.toArray(new ThreadScratch[0]);
    }
    return w;
  }
}
