package io.semnet.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.semnet.tunnel.Harness.Node;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;

/**
 * Fuzzes the datagram decoder ({@link UdpTunnel#onDatagram}) of a tunnel that has one live link:
 * the first input byte picks the source (the linked peer's address or a stranger's), the rest is
 * the datagram. Whatever the bytes, nothing throws, nothing is delivered and no link is created.
 */
class DatagramFuzzTest {
  private static Harness harness;
  private static Node b;
  private static InetSocketAddress peerAddress;

  private static synchronized void setUp() throws Exception {
    if (harness != null) {
      return;
    }
    harness = new Harness();
    b = harness.node("b");
    Node a = harness.node("a");
    a.send(b.endpoint(), new byte[64]);
    if (b.received.data.poll(10, TimeUnit.SECONDS) == null) {
      throw new IllegalStateException("link did not come up");
    }
    peerAddress = a.tunnel.boundAddress();
  }

  @AfterAll
  static synchronized void tearDown() {
    if (harness != null) {
      harness.close();
      harness = null;
    }
  }

  @FuzzTest(maxDuration = "60s")
  void decoder(byte[] input) throws Exception {
    setUp();
    if (input.length == 0) {
      return;
    }
    InetSocketAddress from = (input[0] & 1) == 0 ? peerAddress : new InetSocketAddress("127.0.0.1", 9);
    ByteBuffer d = ByteBuffer.allocateDirect(input.length - 1);
    d.put(input, 1, input.length - 1).flip();
    b.tunnel.runOnLoop(() -> b.tunnel.onDatagram(d, from));
    assertTrue(b.received.data.isEmpty(), "forged input delivered");
    assertTrue(b.received.notFound.isEmpty(), "forged notice delivered");
    assertEquals(1, b.tunnel.stats().links().size(), "state created for forged input");
  }
}
