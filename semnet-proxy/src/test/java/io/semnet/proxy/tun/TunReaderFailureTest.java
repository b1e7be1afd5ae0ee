package io.semnet.proxy.tun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.node.PacketHandler;
import io.semnet.testing.Privileged;
import io.semnet.testing.TestNetwork;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The TUN reader never dies silently: a handler's exception (or out-of-memory) is counted and the
 * reader goes on; an Error it cannot survive stops the reader, is recorded and reported to the node.
 */
@Privileged
class TunReaderFailureTest {
  @Test
  void survivableErrorsAreCountedAndAFatalOneFailsTheNode() throws Exception {
    try (TestNetwork net = new TestNetwork()) {
      String x = net.namespace("x");
      String dev = net.name("tun");
      AtomicInteger seen = new AtomicInteger();
      PacketHandler handler = new PacketHandler() {
        @Override
        public void onPacket(ByteBuffer p) {
          if ((p.get(p.position()) >> 4) != 4 || p.get(p.position() + 9) != 17) {
            return;
          }
          int n = seen.incrementAndGet();
          if (n == 1) {
            throw new IllegalStateException("a bad packet");
          }
          if (n == 2) {
            throw new OutOfMemoryError("Cannot reserve 65536 bytes of direct buffer memory");
          }
          throw new InternalError("cannot go on");
        }
      };
      CompletableFuture<Throwable> failed = new CompletableFuture<>();
      try (TunDevice tun = TunDevice.builder().name(dev).mtu(1300).namespace(x).build()) {
        net.exec(x, "ip", "addr", "add", "10.98.0.1/24", "dev", dev);
        tun.start(new RecordingContext(handler, failed));
        NetworkNamespace.run(x, () -> {
          try (DatagramSocket c = new DatagramSocket()) {
            for (int i = 0; i < 3; i++) {
              byte[] m = new byte[] {(byte) i};
              c.send(new DatagramPacket(m, 1, InetAddress.getByName("10.98.0.2"), 7));
              Thread.sleep(50);
            }
          }
          return null;
        });
        Throwable t = failed.get(5, TimeUnit.SECONDS);
        assertTrue(t instanceof InternalError, String.valueOf(t));
        assertEquals(3, seen.get(), "the reader survived the first two");
        assertEquals(3, tun.handlerErrors());
        assertTrue(tun.failure() instanceof InternalError);
      }
    }
  }
}
