package io.semnet.mdns.internal;

import io.semnet.mdns.ResponderCounters.Counter;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The responder's counters as its internals write them: one atomic slot per
 * {@link Counter}. The public, read-only view is {@link io.semnet.mdns.ResponderCounters}.
 */
public final class ResponderCounts {
  private final AtomicLongArray values = new AtomicLongArray(Counter.values().length);

  /** Adds one. */
  public void increment(Counter c) {
    values.incrementAndGet(c.ordinal());
  }

  public long get(Counter c) {
    return values.get(c.ordinal());
  }
}
