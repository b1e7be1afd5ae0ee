package io.semnet.tunnel.internal.conn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** GSO run buffers are sized to what they hold (issue 14 item 5): a lone small datagram does not pin 64 KiB. */
class GsoRunTest {
  private static final Peer PEER = () -> new InetSocketAddress("127.0.0.1", 9);

  @Test
  void aRunsBufferGrowsWithItsDatagramsUpToTheKernelLimit() {
    GsoRun<Peer> run = new GsoRun<>();
    ByteBuf b = GsoRun.newBuffer(PooledByteBufAllocator.DEFAULT, 100);
    try {
      run.start(PEER, 100, b);
      b.writeZero(100);
      run.added(100);
      assertTrue(b.capacity() <= 256, "one small datagram holds " + b.capacity() + " bytes");

      GsoRun<Peer> big = new GsoRun<>();
      ByteBuf c = GsoRun.newBuffer(PooledByteBufAllocator.DEFAULT, 1400);
      try {
        big.start(PEER, 1400, c);
        int n = 0;
        while (big.accepts(PEER, 1400)) {
          c.writeZero(1400);
          big.added(1400);
          n++;
        }
        assertEquals(GsoRun.MAX_BYTES / 1400, n, "as many segments as fit in one UDP_SEGMENT send");
        assertTrue(c.capacity() <= GsoRun.MAX_BYTES, "never beyond the kernel limit: " + c.capacity());
        assertFalse(big.accepts(PEER, 1400));
      } finally {
        c.release();
      }
    } finally {
      b.release();
    }
  }
}
