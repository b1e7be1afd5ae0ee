package io.semnet.tunnel.internal.noise;

import java.time.Clock;
import java.time.Instant;

/**
 * The initiator's timestamps: strictly increasing across calls and, with a durable
 * {@link TimestampStore}, across restarts even if the wall clock stepped back ({@code max(now, last
 * + 1 ns)}). Each issued value is stored before it is returned, so a responder can never see the
 * same or a lower timestamp from this key again. Thread-safe.
 */
public final class TimestampClock {
  private final Clock clock;
  private final TimestampStore store;
  private final byte[] localKey;
  private Tai64n last;

  /** Issues timestamps for {@code localKey} (the local static public key) from {@code clock}. */
  public TimestampClock(Clock clock, TimestampStore store, byte[] localKey) {
    this.clock = clock;
    this.store = store;
    this.localKey = localKey.clone();
    this.last = store.load(this.localKey);
  }

  /** The next timestamp. */
  public synchronized Tai64n next() {
    Instant now = clock.instant();
    Tai64n t = now.getEpochSecond() < 0 ? new Tai64n(0, 0) : Tai64n.of(now);
    if (last != null && t.compareTo(last) <= 0) {
      t = last.plusNano();
    }
    store.store(localKey, t);
    last = t;
    return t;
  }
}
