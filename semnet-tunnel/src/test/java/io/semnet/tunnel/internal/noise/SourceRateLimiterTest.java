package io.semnet.tunnel.internal.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Token buckets per source in a bounded table. */
class SourceRateLimiterTest {
  private final AtomicLong now = new AtomicLong(5_000_000_000L);

  @Test
  void burstThenRefillAtTheRate() throws Exception {
    SourceRateLimiter l = new SourceRateLimiter(1024, 10, 3, now::get);
    InetAddress a = InetAddress.getByName("192.0.2.1");
    assertTrue(l.allow(a));
    assertTrue(l.allow(a));
    assertTrue(l.allow(a));
    assertFalse(l.allow(a));
    now.addAndGet(50_000_000L); // half a token
    assertFalse(l.allow(a));
    now.addAndGet(50_000_000L);
    assertTrue(l.allow(a));
    assertFalse(l.allow(a));
    now.addAndGet(10_000_000_000L); // long idle: capped at the burst
    for (int i = 0; i < 3; i++) {
      assertTrue(l.allow(a));
    }
    assertFalse(l.allow(a));
  }

  @Test
  void sourcesAreIndependentAndIpv6IsKeyedByItsSlash64() throws Exception {
    SourceRateLimiter l = new SourceRateLimiter(1 << 16, 10, 1, now::get);
    assertTrue(l.allow(InetAddress.getByName("192.0.2.1")));
    assertFalse(l.allow(InetAddress.getByName("192.0.2.1")));
    assertTrue(l.allow(InetAddress.getByName("192.0.2.2")));
    assertTrue(l.allow(InetAddress.getByName("2001:db8:1:2::1")));
    assertFalse(l.allow(InetAddress.getByName("2001:db8:1:2::ffff")), "same /64");
    assertTrue(l.allow(InetAddress.getByName("2001:db8:1:3::1")));
  }

  @Test
  void tableIsBoundedAndCollisionsNeverLoosenTheLimit() throws Exception {
    SourceRateLimiter l = new SourceRateLimiter(5, 10, 1, now::get);
    assertEquals(8, l.slots());
    int allowed = 0;
    for (int i = 0; i < 1000; i++) {
      if (l.allow(InetAddress.getByName("10.0." + (i >> 8) + "." + (i & 0xff)))) {
        allowed++;
      }
    }
    // 1000 sources in 8 slots with no time passing: at most one message per slot.
    assertTrue(allowed <= 8, "allowed " + allowed);
    assertEquals(1, new SourceRateLimiter(1, 1, 1, now::get).slots());
    assertThrows(IllegalArgumentException.class, () -> new SourceRateLimiter(0, 1, 1, now::get));
  }
}
