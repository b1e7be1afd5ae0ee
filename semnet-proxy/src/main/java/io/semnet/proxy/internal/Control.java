package io.semnet.proxy.internal;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The translator's control thread and whether the translator runs. Control-plane work (sweeps,
 * re-pointing, releasing and replaying holds) is handed here so the data path never waits for it;
 * before {@link #start} and after {@link #shutdown} nothing is accepted and the callers decide
 * what to do instead (drop the work or run it inline). Every task runs as one read section of the
 * control thread's {@link ThreadScratch}: entered before, quiesced after (flow recycling waits for it).
 */
final class Control {
  private volatile ScheduledExecutorService executor;
  private volatile boolean started;
  private final ThreadScratches scratches;

  Control(ThreadScratches scratches) {
    this.scratches = scratches;
  }

  /** {@code r} as a read section of the running thread: it may hold flows until it ends. */
  private Runnable section(Runnable r) {
    return () -> {
      ThreadScratch w = scratches.get();
      w.beginSection();
      try {
        r.run();
      } finally {
        w.endSection();
      }
    };
  }

  /** Starts the control thread and the periodic {@code sweep}; the translator runs from now on. */
  void start(String nodeId, Runnable sweep, long sweepMs) {
    ScheduledExecutorService e = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "semnet-translator-" + nodeId);
      t.setDaemon(true);
      return t;
    });
    executor = e;
    e.scheduleWithFixedDelay(section(sweep), sweepMs, sweepMs, TimeUnit.MILLISECONDS);
    started = true;
  }

  /** Marks the translator stopped; false if it was not running. The thread stays until {@link #shutdown}. */
  boolean stop() {
    if (!started) {
      return false;
    }
    started = false;
    return true;
  }

  /** Stops the control thread, abandoning queued work. */
  void shutdown() {
    executor.shutdownNow();
  }

  /** True between start and stop. */
  boolean started() {
    return started;
  }

  /** Runs {@code r} on the control thread; false (not run) if there is none. */
  boolean execute(Runnable r) {
    ScheduledExecutorService e = executor;
    if (e == null || e.isShutdown()) {
      return false;
    }
    e.execute(section(r));
    return true;
  }

  /** Runs {@code r} on the control thread in {@code delayMs}; false (not scheduled) if there is none. */
  boolean schedule(Runnable r, long delayMs) {
    ScheduledExecutorService e = executor;
    if (e == null || e.isShutdown()) {
      return false;
    }
    e.schedule(section(r), delayMs, TimeUnit.MILLISECONDS);
    return true;
  }
}
