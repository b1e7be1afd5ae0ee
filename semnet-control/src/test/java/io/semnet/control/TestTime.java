package io.semnet.control;

import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/** One controllable time for managers (Clock) and resolvers (a nanosecond LongSupplier), so tests can step over TTLs. */
public final class TestTime extends Clock implements Ticker, java.util.function.LongSupplier {
  private final AtomicLong nanos = new AtomicLong(1_000_000_000_000L);

  public void advance(Duration d) {
    nanos.addAndGet(d.toNanos());
  }

  @Override
  public long getAsLong() {
    return read();
  }

  @Override
  public long read() {
    return nanos.get();
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }

  @Override
  public Instant instant() {
    // Starts near the real time so certificates and quarantines look sane.
    return Instant.ofEpochSecond(1_790_000_000L).plusNanos(nanos.get());
  }
}
