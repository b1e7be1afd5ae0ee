package io.semnet.core.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BusyPollTest {
  @Test
  void spinsOnlyWithinTheWindowAfterTheLastWork() {
    BusyPoll p = BusyPoll.of(Duration.ofNanos(50_000));
    assertTrue(p.spinning(1_000_000, 1_000_000));
    assertTrue(p.spinning(1_000_000, 1_049_999));
    assertFalse(p.spinning(1_000_000, 1_050_000));
    assertFalse(BusyPoll.OFF.spinning(1_000_000, 1_000_000));
  }

  @Test
  void theWindowIsBounded() {
    assertThrows(IllegalArgumentException.class, () -> BusyPoll.of(Duration.ofMillis(2)));
    assertThrows(IllegalArgumentException.class, () -> new BusyPoll(-1));
    assertEquals(1_000_000, BusyPoll.of(BusyPoll.MAX).nanos());
  }

  @Test
  void theSystemPropertyGivesTheDefault() {
    String old = System.getProperty("semnet.busyPollMicros");
    try {
      System.setProperty("semnet.busyPollMicros", "40");
      assertEquals(40_000, BusyPoll.fromSystemProperty().nanos());
      System.clearProperty("semnet.busyPollMicros");
      assertEquals(BusyPoll.OFF, BusyPoll.fromSystemProperty());
    } finally {
      if (old != null) {
        System.setProperty("semnet.busyPollMicros", old);
      }
    }
  }
}
