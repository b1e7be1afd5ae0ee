package io.semnet.tunnel;

import static io.semnet.tunnel.UdpTunnelTest.packet;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.tunnel.Harness.Node;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import io.semnet.core.node.TunnelReceiver;
import org.junit.jupiter.api.Test;

/**
 * The tunnel's event loop never dies silently (issue 14 item 5): whatever a datagram's handling
 * throws is counted ({@link DropReason#INTERNAL_ERROR}) and logged; exceptions and out-of-memory
 * errors (direct memory included) are survived, any other {@link Error} is reported to the node as
 * fatal ({@code NodeContext.fail}), which stops the node loudly with a failed state.
 */
class EventLoopErrorsTest {
  private static final AssertionError FATAL = new AssertionError("broken invariant");

  @Test
  void errorsAreCountedSurvivableOnesSurvivedAndAFatalOneStopsTheNode() throws Exception {
    LinkedBlockingQueue<byte[]> got = new LinkedBlockingQueue<>();
    TunnelReceiver throwing = new TunnelReceiver() {
      @Override
      public void onData(WorkerEndpoint from, ByteBuffer packet) {
        byte kind = packet.get(packet.position());
        switch (kind) {
          case 1 -> throw new IllegalStateException("receiver bug");
          case 2 -> throw new OutOfMemoryError("Cannot reserve 65536 bytes of direct buffer memory");
          case 3 -> throw FATAL;
          default -> {
            byte[] b = new byte[packet.remaining()];
            packet.get(b);
            got.add(b);
          }
        }
      }

      @Override
      public void onRouteNotFound(WorkerEndpoint from, InetAddress namespaceIp) {}
    };
    try (Harness h = new Harness()) {
      Node b = h.node("b", NodeKeys.generate(), new InetSocketAddress("127.0.0.1", 0), x -> {}, throwing);
      Node a = h.node("a");
      a.send(b.endpoint(), new byte[] {1, 0, 0});
      a.send(b.endpoint(), new byte[] {2, 0, 0});
      Harness.await("two errors counted", Duration.ofSeconds(5), () -> b.tunnel.stats().drops(DropReason.INTERNAL_ERROR) == 2);
      byte[] fine = packet(30, 9);
      fine[0] = 0;
      a.send(b.endpoint(), fine);
      assertArrayEquals(fine, got.poll(5, TimeUnit.SECONDS), "the loop survived");
      assertNull(b.failure, "survivable errors do not stop the node");

      a.send(b.endpoint(), new byte[] {3, 0, 0});
      Harness.await("fatal error reported to the node", Duration.ofSeconds(5), () -> b.failure != null);
      assertSame(FATAL, b.failure);
      assertEquals(3, b.tunnel.stats().drops(DropReason.INTERNAL_ERROR));
    }
  }
}
