package io.semnet.tunnel;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.tunnel.Harness.Node;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Dead-peer detection with the default probe settings, independent of the keepalive interval:
 * data sent to a peer that stopped answering is noticed within a few seconds; an idle link costs
 * next to nothing. Spans and CPU are printed, not asserted tightly (a loaded 2-core machine).
 */
class DeadPeerDetectionTest {

  static byte[] packet(int n) {
    byte[] p = new byte[64];
    p[0] = 0x45;
    p[1] = (byte) n;
    return p;
  }

  @Test
  void aPeerThatDiesWhileDataIsSentIsMarkedDownWithinSecondsNotAtTheNextKeepalive() throws Exception {
    try (Harness h = new Harness()) {
      // keepalive 60 s: only the unanswered-data rule can notice the death quickly; the rest defaults
      Node a = h.node("a", x -> x.keepaliveInterval(Duration.ofSeconds(60)).handshakeRetry(Duration.ofSeconds(1)));
      Node b = h.node("b", x -> x.keepaliveInterval(Duration.ofSeconds(60)).handshakeRetry(Duration.ofSeconds(1)));
      WorkerEndpoint be = b.endpoint();
      a.send(be, packet(0));
      Harness.Delivery first = b.received.next();
      assertNotNull(first);
      b.send(first.from(), packet(1));
      assertNotNull(a.received.next());
      Thread.sleep(1500); // well past the first probe's echo: nothing outstanding
      assertTrue(a.view.isPeerUp("b"));

      b.close();
      long killed = System.nanoTime();
      long down = 0;
      while (System.nanoTime() - killed < Duration.ofSeconds(15).toNanos()) {
        a.send(be, packet(2)); // a client retrying, 10 per second
        if (!a.view.isPeerUp("b")) {
          down = System.nanoTime();
          break;
        }
        Thread.sleep(100);
      }
      assertTrue(down != 0, "peer marked down while data went unanswered");
      double secs = (down - killed) / 1e9;
      System.out.printf("DeadPeerDetectionTest: peer down %.2f s after it stopped (keepalive 60 s)%n", secs);
      assertFalse(a.tunnel.stats().link("b").up());
    }
  }

  /** User + system CPU of this JVM from /proc/self/stat (clock ticks of 10 ms). */
  static long processCpuMillis() throws java.io.IOException {
    String stat = Files.readString(Path.of("/proc/self/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10;
  }

  @Test
  void anIdleLinkCostsNextToNoCpu() throws Exception {
    try (Harness h = new Harness()) {
      Node a = h.node("a", x -> x.keepaliveInterval(Duration.ofSeconds(5)).handshakeRetry(Duration.ofSeconds(1)));
      Node b = h.node("b", x -> x.keepaliveInterval(Duration.ofSeconds(5)).handshakeRetry(Duration.ofSeconds(1)));
      a.send(b.endpoint(), packet(0));
      assertNotNull(b.received.next());
      Thread.sleep(1000);
      long cpu0 = processCpuMillis();
      long t0 = System.nanoTime();
      Thread.sleep(5000);
      double cpuMs = processCpuMillis() - cpu0;
      double wallS = (System.nanoTime() - t0) / 1e9;
      System.out.printf("DeadPeerDetectionTest: two idle tunnels with one link: %.1f ms CPU per s (whole test JVM, "
          + "%.1f ms over %.1f s)%n", cpuMs / wallS, cpuMs, wallS);
      assertTrue(a.view.isPeerUp("b"));
      assertTrue(cpuMs / wallS < 50, "idle tunnels should not use 5 % of a core");
    }
  }
}
