package io.semnet.mqtt.internal;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * Counts rejected inbound messages per reason and logs them at most once per interval per reason,
 * with the number suppressed since the last line: a peer flooding the broker with garbage must not
 * be able to flood the log (or the disk) too.
 */
public final class RejectLog {
  private final Logger log;
  private final long intervalNanos;
  private final AtomicLong total = new AtomicLong();
  private final Map<String, Entry> byReason = new ConcurrentHashMap<>();

  private final String what;

  public RejectLog(Logger log, long intervalNanos, String what) {
    this.log = log;
    this.what = what;
    this.intervalNanos = intervalNanos;
  }

  /** Counts one rejection; {@code reason} should be a short, bounded category, {@code detail} the specifics. */
  public void reject(String reason, String topic, String detail) {
    total.incrementAndGet();
    // Reasons are a small fixed set chosen by the transport, so this map stays bounded.
    Entry e = byReason.computeIfAbsent(reason, r -> new Entry());
    long n = e.count.incrementAndGet();
    long now = System.nanoTime();
    long last = e.lastLog.get();
    if ((n == 1 || now - last >= intervalNanos) && e.lastLog.compareAndSet(last, now)) {
      long suppressed = n - e.loggedAt.getAndSet(n) - 1;
      log.warn("{} {}: {} ({}){}", what, topic, reason, truncate(detail),
          suppressed > 0 ? " [" + suppressed + " more with this reason since last report]" : "");
    }
  }

  public long total() {
    return total.get();
  }

  public long count(String reason) {
    Entry e = byReason.get(reason);
    return e == null ? 0 : e.count.get();
  }

  private static String truncate(String s) {
    if (s == null) {
      return "";
    }
    // Details may quote attacker-controlled text: keep it short and on one line.
    String one = s.replaceAll("[\\r\\n\\t]", " ");
    return one.length() <= 200 ? one : one.substring(0, 200) + "...";
  }

  private static final class Entry {
    final AtomicLong count = new AtomicLong();
    final AtomicLong lastLog = new AtomicLong(System.nanoTime() - Long.MAX_VALUE / 2);
    final AtomicLong loggedAt = new AtomicLong();
  }
}
