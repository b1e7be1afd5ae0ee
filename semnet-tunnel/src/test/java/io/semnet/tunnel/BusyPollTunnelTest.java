package io.semnet.tunnel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.testing.ThreadCpu;
import io.semnet.tunnel.Harness.Delivery;
import io.semnet.tunnel.Harness.Node;
import java.nio.ByteBuffer;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The tunnel's event loop with a busy-poll window: traffic flows both ways, and an idle loop parks. */
class BusyPollTunnelTest {
  private static byte[] packet(int size, int seq) {
    byte[] p = new byte[size];
    p[0] = 0x45;
    p[4] = (byte) (seq >>> 8);
    p[5] = (byte) seq;
    return p;
  }

  @Test
  void aBusyPollingLoopCarriesTrafficAndParksWhenIdle() throws Exception {
    try (Harness h = new Harness()) {
      Node a = h.node("a", x -> x.busyPoll(Duration.ofMillis(1)));
      Node b = h.node("b", x -> x.busyPoll(Duration.ofMillis(1)));
      for (int i = 0; i < 100; i++) {
        a.tunnel.send(b.endpoint(), ByteBuffer.wrap(packet(1200, i)));
        a.tunnel.flush();
        Delivery d = b.received.next();
        assertNotNull(d, "packet " + i);
        assertArrayEquals(packet(1200, i), d.bytes());
        b.send(a.endpoint(), packet(64, i));
        assertArrayEquals(packet(64, i), a.received.next().bytes());
      }
      // Idle now: after at most the 1 ms window each loop blocks in epoll_wait again. A loop that
      // kept spinning would burn about the whole second below (or what the scheduler gives it).
      Thread.sleep(200);
      long before = ThreadCpu.millis("semnet-tunnel-b");
      Thread.sleep(1000);
      long spent = ThreadCpu.millis("semnet-tunnel-b") - before;
      assertTrue(spent < 100, "idle event loop used " + spent + " ms of CPU in 1 s");
    }
  }
}
