package io.semnet.proxy.tun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.node.PacketHandler;
import io.semnet.testing.Privileged;
import io.semnet.testing.TestNetwork;
import io.semnet.testing.ThreadCpu;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;

/**
 * A TUN reader with a busy-poll window reads every packet, in order, whether it arrives while the
 * reader spins or after it parked in poll; an idle reader parks (uses no CPU) after the window.
 */
@Privileged
class TunBusyPollTest {
  @Test
  void aBusyPollingReaderReadsEverythingAndParksWhenIdle() throws Exception {
    try (TestNetwork net = new TestNetwork()) {
      String x = net.namespace("x");
      String dev = net.name("tun");
      ConcurrentLinkedQueue<Integer> seen = new ConcurrentLinkedQueue<>();
      PacketHandler handler = p -> {
        if ((p.get(p.position()) >> 4) == 4 && p.get(p.position() + 9) == 17) {
          seen.add(p.get(p.position() + 28) & 0xff);
        }
      };
      try (TunDevice tun = TunDevice.builder().name(dev).mtu(1300).namespace(x).busyPoll(Duration.ofMillis(1)).build()) {
        net.exec(x, "ip", "addr", "add", "10.97.0.1/24", "dev", dev);
        tun.start(new RecordingContext(handler, new CompletableFuture<>()));
        NetworkNamespace.run(x, () -> {
          try (DatagramSocket c = new DatagramSocket()) {
            for (int i = 0; i < 40; i++) {
              c.send(new DatagramPacket(new byte[] {(byte) i}, 1, InetAddress.getByName("10.97.0.2"), 7));
              // back to back (inside the window), then spaced out (the reader has parked in between)
              if (i >= 20) {
                Thread.sleep(5);
              }
            }
          }
          return null;
        });
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (seen.size() < 40 && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
        assertEquals(40, seen.size(), "datagrams read: " + seen);
        int expect = 0;
        for (int v : seen) {
          assertEquals(expect++, v, "in order: " + seen);
        }
        // Idle: a reader that kept spinning would use about the whole second.
        Thread.sleep(200);
        long before = ThreadCpu.millis("tun-" + dev);
        Thread.sleep(1000);
        long spent = ThreadCpu.millis("tun-" + dev) - before;
        assertTrue(spent < 100, "idle TUN reader used " + spent + " ms of CPU in 1 s");
      }
    }
  }
}
