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
 * Fuzzes the version-2 datagram decoder ({@link UdpTunnel#onDatagram}) of a tunnel that has one
 * live link: the first input byte picks the source (the linked peer's address or a stranger's),
 * the rest is the datagram. Whatever the bytes, nothing throws, nothing is delivered and no link
 * is created. {@link #plaintextDecoder} bypasses the AEAD (a plaintext tunnel) and, on request of
 * the first byte, writes the live session's receiver index into the datagram, so the fuzzer
 * reaches the replay window and the body parsers behind the index lookup. Fuzz each with
 * {@code JAZZER_FUZZ=1 mvn -pl semnet-core,semnet-tunnel -am verify -Dtest='DatagramFuzzTest#decoder'}
 * (or {@code #plaintextDecoder}).
 */
class DatagramFuzzTest {
  private static Harness harness;
  private static Node b;
  private static InetSocketAddress peerAddress;
  private static Harness plainHarness;
  private static Node plainB;
  private static InetSocketAddress plainPeer;
  private static byte[] plainIndex;

  private static synchronized void setUp() throws Exception {
    if (harness != null) {
      return;
    }
    harness = new Harness();
    // long idle timeouts: a fuzz run outlasts the default 5 minutes, and the link must stay (the first 15-minute run tripped on that)
    b = harness.node("b", x -> x.idleTimeout(java.time.Duration.ofDays(1)));
    Node a = harness.node("a", x -> x.idleTimeout(java.time.Duration.ofDays(1)));
    a.send(b.endpoint(), new byte[64]);
    if (b.received.data.poll(10, TimeUnit.SECONDS) == null) {
      throw new IllegalStateException("link did not come up");
    }
    peerAddress = a.tunnel.boundAddress();
  }

  private static synchronized void setUpPlain() throws Exception {
    if (plainHarness != null) {
      return;
    }
    plainHarness = new Harness();
    plainB = plainHarness.node("b", x -> x.plaintext(true).idleTimeout(java.time.Duration.ofDays(1)));
    Relay relay = new Relay(new InetSocketAddress("127.0.0.1", 0), plainB.tunnel.boundAddress());
    plainHarness.closeLater(relay);
    Node a = plainHarness.node("a", x -> x.plaintext(true).idleTimeout(java.time.Duration.ofDays(1)));
    a.send(io.semnet.core.address.WorkerEndpoint.of("b", relay.address(), new byte[0]), new byte[64]);
    if (plainB.received.data.poll(10, TimeUnit.SECONDS) == null) {
      throw new IllegalStateException("link did not come up");
    }
    byte[] data = relay.toTarget.stream().filter(x -> x[1] == io.semnet.tunnel.internal.Datagram.TYPE_DATA).findFirst().orElseThrow();
    plainIndex = java.util.Arrays.copyOfRange(data, 4, 8);
    plainPeer = relay.address();
  }

  @AfterAll
  static synchronized void tearDown() {
    if (harness != null) {
      harness.close();
      harness = null;
    }
    if (plainHarness != null) {
      plainHarness.close();
      plainHarness = null;
    }
  }

  @FuzzTest(maxDuration = "60s")
  void plaintextDecoder(byte[] input) throws Exception {
    setUpPlain();
    if (input.length == 0) {
      return;
    }
    InetSocketAddress from = (input[0] & 1) == 0 ? plainPeer : new InetSocketAddress("127.0.0.1", 9);
    byte[] d = java.util.Arrays.copyOfRange(input, 1, input.length);
    if (d.length >= 2 && (d[1] == io.semnet.tunnel.internal.Datagram.TYPE_INITIATION || d[1] == io.semnet.tunnel.internal.Datagram.TYPE_RESPONSE)) {
      return; // plaintext handshakes are unauthenticated by design (trusted LANs): they make links, bounded by maxLinks; not this target's concern
    }
    if ((input[0] & 2) != 0 && d.length >= 8) {
      System.arraycopy(plainIndex, 0, d, 4, 4); // the live session's index: past the lookup
    }
    ByteBuffer b = ByteBuffer.allocateDirect(d.length);
    b.put(d).flip();
    plainB.tunnel.runOnLoop(() -> plainB.tunnel.onDatagram(b, from));
    // a plaintext tunnel delivers what names its session, by design: the point is that nothing throws or grows
    plainB.received.data.clear();
    plainB.received.notFound.clear();
    assertEquals(1, plainB.tunnel.stats().links().size(), "links from fuzz input: " + plainB.tunnel.stats().links());
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
