package io.semnet.tunnel.internal.conn;

import io.netty.channel.SelectStrategy;
import io.netty.util.IntSupplier;
import io.semnet.core.node.BusyPoll;
import java.util.function.LongSupplier;

/**
 * The event loop's select strategy with a bounded busy-poll: after the loop last had work (ready
 * events or tasks), it polls with {@code epoll_wait(0)} instead of blocking for up to the
 * {@link BusyPoll} window, so a datagram arriving within it costs no wake-up; after the window, it
 * blocks as Netty's default does. One instance per event loop (its thread alone uses it).
 */
final class SpinningSelect implements SelectStrategy {
  private final BusyPoll busyPoll;
  private final LongSupplier nanoClock;
  private long lastWork;

  SpinningSelect(BusyPoll busyPoll) {
    this(busyPoll, System::nanoTime);
  }

  /** With a clock of its own (tests). */
  SpinningSelect(BusyPoll busyPoll, LongSupplier nanoClock) {
    this.busyPoll = busyPoll;
    this.nanoClock = nanoClock;
    this.lastWork = nanoClock.getAsLong();
  }

  @Override
  public int calculateStrategy(IntSupplier selectNow, boolean hasTasks) throws Exception {
    int ready = selectNow.get();
    long now = nanoClock.getAsLong();
    if (ready > 0 || hasTasks) {
      lastWork = now;
      return ready;
    }
    if (busyPoll.spinning(lastWork, now)) {
      Thread.onSpinWait();
      return SelectStrategy.CONTINUE;
    }
    return SelectStrategy.SELECT;
  }
}
