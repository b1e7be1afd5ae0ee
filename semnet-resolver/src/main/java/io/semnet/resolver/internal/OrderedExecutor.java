package io.semnet.resolver.internal;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks one at a time, in submission order, on a shared pool: what a transport channel needs
 * to deliver one client's pushes in order without a thread of its own. Tasks submitted while the
 * gate is closed (the channel was closed) are skipped; a failing task is logged and does not stop
 * the ones after it. With a capacity, {@link #offer} refuses a task instead of queueing past it (a
 * transport's per-client request queue: one client cannot grow the shared pool's queue). Thread-safe.
 */
public final class OrderedExecutor implements Executor {
  private static final Logger log = LoggerFactory.getLogger(OrderedExecutor.class);

  private final Executor pool;
  private final BooleanSupplier open;
  private final String label;
  private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
  private final int capacity;
  private boolean draining;

  /**
   * @param pool where tasks run
   * @param open false once queued tasks should be skipped
   * @param label names the owner in log messages
   */
  public OrderedExecutor(Executor pool, BooleanSupplier open, String label) {
    this(pool, open, label, Integer.MAX_VALUE);
  }

  /** As above, holding at most {@code capacity} tasks not yet started ({@link #offer}). */
  public OrderedExecutor(Executor pool, BooleanSupplier open, String label, int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be >= 1");
    }
    this.pool = pool;
    this.open = open;
    this.label = label;
    this.capacity = capacity;
  }

  @Override
  public void execute(Runnable task) {
    if (!offer(task)) {
      throw new RejectedExecutionException(label + ": queue full (" + capacity + " tasks)");
    }
  }

  /** Queues the task, or returns false (and drops it) if {@code capacity} tasks are already waiting. */
  public boolean offer(Runnable task) {
    synchronized (queue) {
      if (queue.size() >= capacity) {
        return false;
      }
      queue.add(task);
      if (draining) {
        return true;
      }
      draining = true;
    }
    try {
      pool.execute(this::drain);
    } catch (RejectedExecutionException e) {
      // The pool is shutting down with its transport: nothing queued can run any more.
      synchronized (queue) {
        queue.clear();
        draining = false;
      }
    }
    return true;
  }

  private void drain() {
    while (true) {
      Runnable r;
      synchronized (queue) {
        r = queue.poll();
        if (r == null) {
          draining = false;
          return;
        }
      }
      if (!open.getAsBoolean()) {
        continue;
      }
      try {
        r.run();
      } catch (RuntimeException e) {
        log.warn("delivery to {} failed", label, e);
      }
    }
  }
}
