package io.semnet.tunnel.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ReplayWindowTest {

  private static boolean accept(ReplayWindow w, long c) {
    if (!w.check(c)) {
      return false;
    }
    w.commit(c);
    return true;
  }

  @Test
  void eachCounterOnceAndReorderingWithinTheWindow() {
    ReplayWindow w = new ReplayWindow();
    List<Long> counters = new ArrayList<>();
    for (long i = 0; i < 5000; i++) {
      counters.add(i);
    }
    // shuffle in blocks smaller than the window: every counter is accepted exactly once
    Random r = new Random(1);
    for (int i = 0; i < counters.size(); i += 500) {
      Collections.shuffle(counters.subList(i, Math.min(i + 500, counters.size())), r);
    }
    for (long c : counters) {
      assertTrue(accept(w, c), "first time " + c);
    }
    for (long c : counters.subList(counters.size() - 100, counters.size())) {
      assertFalse(accept(w, c), "replay " + c);
    }
  }

  @Test
  void tooOldIsRejectedAndJumpsClearTheWindow() {
    ReplayWindow w = new ReplayWindow();
    assertTrue(accept(w, 10));
    assertTrue(accept(w, 10 + ReplayWindow.SIZE + 5));
    assertFalse(accept(w, 10), "older than the window");
    assertFalse(accept(w, 5));
    assertTrue(accept(w, 10 + 6), "inside the window, never seen");
    assertFalse(accept(w, 16));
    assertTrue(accept(w, 1_000_000));
    assertTrue(accept(w, 1_000_000 - ReplayWindow.SIZE + 1), "bit cleared by the jump");
    assertFalse(accept(w, 1_000_000 - ReplayWindow.SIZE));
    assertFalse(w.check(-1));
  }
}
