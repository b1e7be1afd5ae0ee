package io.semnet.tunnel.internal.conn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.channel.SelectStrategy;
import io.semnet.core.node.BusyPoll;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SpinningSelectTest {
  @Test
  void pollsWithoutBlockingWithinTheWindowThenBlocks() throws Exception {
    long[] now = {1_000_000_000L};
    SpinningSelect s = new SpinningSelect(BusyPoll.of(Duration.ofMillis(1)), () -> now[0]);
    assertEquals(3, s.calculateStrategy(() -> 3, false), "ready events are handled");
    now[0] += 999_999;
    assertEquals(SelectStrategy.CONTINUE, s.calculateStrategy(() -> 0, false), "within the window: poll again, do not block");
    now[0] += 1;
    assertEquals(SelectStrategy.SELECT, s.calculateStrategy(() -> 0, false), "after the window: block");
    assertEquals(0, s.calculateStrategy(() -> 0, true), "tasks are work: run them");
    assertEquals(SelectStrategy.CONTINUE, s.calculateStrategy(() -> 0, false));
  }
}
