package io.semnet.tunnel.internal.conn;

import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tunnel event loop's policy for anything thrown while it handles a datagram, a batch end or a
 * timer tick, so the loop never dies silently: every {@link Throwable} is counted and logged (the
 * first of a run in full, then every 1000th); exceptions and the errors a datagram can cause
 * without harming the process (out of memory, direct memory included; stack overflow) are survived;
 * an {@link Error} of any other kind, or 1000 failures in a row, is fatal and handed to
 * {@code fatal} once (the node then enters its failed state and stops loudly). Event loop only.
 */
public final class LoopErrors {
  private static final Logger log = LoggerFactory.getLogger(LoopErrors.class);
  static final int FATAL_RUN = 1000;

  private final String name;
  private final Runnable count;
  private final Consumer<Throwable> fatal;
  private int run;
  private long total;
  private boolean failed;

  /** @param count called for every failure (the tunnel's counter); @param fatal told once about a fatal one */
  public LoopErrors(String name, Runnable count, Consumer<Throwable> fatal) {
    this.name = name;
    this.count = count;
    this.fatal = fatal;
  }

  /** Records a failure {@code where} (e.g. "handling a datagram"). */
  public void failed(Throwable t, String where) {
    count.run();
    total++;
    run++;
    boolean survivable = !(t instanceof Error) || t instanceof OutOfMemoryError || t instanceof StackOverflowError;
    if (!survivable || run >= FATAL_RUN) {
      if (!failed) {
        failed = true;
        log.error("tunnel {}: fatal error {} ({} in a row); the node stops", name, where, run, t);
        fatal.accept(t);
      }
      return;
    }
    if (run == 1 || total % FATAL_RUN == 0) {
      log.warn("tunnel {}: error {} (survived; {} so far)", name, where, total, t);
    }
  }

  /** A unit of work completed: ends the run of failures. */
  public void ok() {
    run = 0;
  }

  /** Whether a fatal failure was reported. */
  public boolean isFatal() {
    return failed;
  }
}
