package io.semnet.core.node;

import java.time.Duration;

/**
 * How long a data-path thread (a TUN reader, a tunnel's event loop) keeps polling without
 * blocking after it last had work, before it parks in {@code poll}/{@code epoll_wait}. A packet
 * that arrives within the window is taken without a wake-up (on a virtual machine, waking a parked
 * thread costs tens of microseconds per hop); the price is up to that much CPU after every burst.
 * Bounded by construction: an idle thread spins at most {@link #nanos()} and then parks. Off
 * ({@link #OFF}) unless configured; {@link #fromSystemProperty()} reads
 * {@code -Dsemnet.busyPollMicros=N}, which the default builders use.
 *
 * @param nanos the spin window after the last work; 0 is off
 */
public record BusyPoll(long nanos) {
  /** The longest window accepted (a spinning thread takes a core from everything else). */
  public static final Duration MAX = Duration.ofMillis(1);

  /** No spinning: park as soon as there is no work. */
  public static final BusyPoll OFF = new BusyPoll(0);

  public BusyPoll {
    if (nanos < 0 || nanos > MAX.toNanos()) {
      throw new IllegalArgumentException("busy-poll window must be 0.." + MAX.toNanos() / 1000 + " µs, not " + nanos + " ns");
    }
  }

  /** A window of {@code d} (zero: off). */
  public static BusyPoll of(Duration d) {
    return new BusyPoll(d.toNanos());
  }

  /** {@code -Dsemnet.busyPollMicros} (default 0, off). */
  public static BusyPoll fromSystemProperty() {
    return new BusyPoll(Long.getLong("semnet.busyPollMicros", 0L) * 1000);
  }

  /** True if a thread last busy at {@code lastWorkNanos} should still spin at {@code now}. */
  public boolean spinning(long lastWorkNanos, long now) {
    return nanos > 0 && now - lastWorkNanos < nanos;
  }
}
