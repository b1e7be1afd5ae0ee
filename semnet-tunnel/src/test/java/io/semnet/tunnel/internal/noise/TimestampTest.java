package io.semnet.tunnel.internal.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** TAI64N encoding, the responder's floor and the initiator's monotonic clock. */
class TimestampTest {
  private static final byte[] KEY = new byte[32];

  @Test
  void encodingIsTai64nAndOrderPreserving() {
    Tai64n t = new Tai64n(1, 2);
    assertEquals("400000000000000100000002", HexFormat.of().formatHex(t.encode()));
    assertEquals(t, Tai64n.decode(t.encode()));
    Tai64n later = Tai64n.of(Instant.parse("2026-12-05T08:00:00.5Z"));
    assertTrue(Arrays.compareUnsigned(t.encode(), later.encode()) < 0);
    assertTrue(t.compareTo(later) < 0);
    assertEquals(new Tai64n(2, 0), new Tai64n(1, 999_999_999).plusNano());
    assertNull(Tai64n.decode(new byte[11]));
    assertNull(Tai64n.decode(new byte[12]), "label below 2^62");
    byte[] badNanos = t.encode();
    badNanos[8] = (byte) 0x3c; // 0x3c000002 > 10^9
    assertNull(Tai64n.decode(badNanos));
    byte[] top = t.encode();
    top[0] = (byte) 0x80;
    assertNull(Tai64n.decode(top));
  }

  @Test
  void floorAcceptsOnlyStrictlyNewer() {
    TimestampStore store = TimestampStore.inMemory();
    TimestampFloor floor = new TimestampFloor(store);
    byte[] other = new byte[32];
    other[0] = 1;
    assertTrue(floor.tryAdvance(KEY, new Tai64n(100, 5)));
    assertFalse(floor.tryAdvance(KEY, new Tai64n(100, 5)));
    assertFalse(floor.tryAdvance(KEY, new Tai64n(99, 999)));
    assertTrue(floor.tryAdvance(other, new Tai64n(1, 0)), "floors are per key");
    assertTrue(floor.tryAdvance(KEY, new Tai64n(100, 6)));
    assertEquals(new Tai64n(100, 6), store.load(KEY));
    assertFalse(new TimestampFloor(store).tryAdvance(KEY, new Tai64n(100, 6)), "a new floor on the same store remembers");
  }

  @Test
  void clockIsMonotonicAcrossRestartsAndClockStepsBack() {
    TimestampStore store = TimestampStore.inMemory();
    Nodes nodes = new Nodes();
    TimestampClock c = new TimestampClock(nodes.clock(), store, KEY);
    Tai64n a = c.next();
    Tai64n b = c.next();
    assertTrue(b.compareTo(a) > 0, "same wall time still increases");
    nodes.wallMillis.addAndGet(-3_600_000); // the clock steps back an hour, the node restarts
    TimestampClock restarted = new TimestampClock(nodes.clock(), store, KEY);
    Tai64n c2 = restarted.next();
    assertTrue(c2.compareTo(b) > 0);
    assertArrayEquals(c2.encode(), store.load(KEY).encode(), "stored before use");
  }
}
