package io.semnet.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.trust.RootAuthority;
import io.semnet.tunnel.Harness.Node;
import io.semnet.tunnel.internal.Datagram;
import io.semnet.tunnel.internal.noise.HandshakeCodec;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** Everything that is not an authentic, fresh datagram from a known peer is dropped, counted, unanswered and stateless. */
class BadDatagramTest {

  private static void expect(Node n, DropReason r, long count) throws InterruptedException {
    Harness.await(r + " = " + count + " (now " + n.tunnel.stats().drops() + ")", Duration.ofSeconds(10),
        () -> n.tunnel.stats().drops(r) == count);
  }

  @Test
  void malformedUnknownAndUnauthenticatedDatagramsFromStrangers() throws Exception {
    try (Harness h = new Harness(); DatagramSocket stranger = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      Node b = h.node("b");
      InetSocketAddress to = b.tunnel.boundAddress();
      stranger.setSoTimeout(300);
      send(stranger, to, new byte[3]);
      expect(b, DropReason.TRUNCATED, 1);
      byte[] hdr = new byte[40];
      Datagram.header(hdr, Datagram.TYPE_DATA, 0, 1, 1);
      hdr[0] = 1; // the format before v2
      send(stranger, to, hdr);
      expect(b, DropReason.UNSUPPORTED_VERSION, 1);
      hdr[0] = 3; // a format from the future
      send(stranger, to, hdr);
      expect(b, DropReason.UNKNOWN_VERSION, 1);
      Datagram.header(hdr, 77, 0, 1, 1);
      send(stranger, to, hdr);
      expect(b, DropReason.UNKNOWN_TYPE, 1);
      Datagram.header(hdr, Datagram.TYPE_DATA, 0, 12345, 1);
      send(stranger, to, hdr);
      expect(b, DropReason.UNKNOWN_PEER, 1);
      Datagram.header(hdr, Datagram.TYPE_PROBE, Datagram.FLAG_PLAINTEXT, 12345, 1);
      send(stranger, to, hdr);
      expect(b, DropReason.MODE_MISMATCH, 1);

      // an initiation-shaped message with garbage MACs: dropped before any X25519
      byte[] junk = new byte[HandshakeCodec.INITIATION_BYTES + 100];
      new java.util.Random(1).nextBytes(junk);
      junk[0] = 2;
      junk[1] = (byte) Datagram.TYPE_INITIATION;
      junk[2] = 0;
      junk[3] = 0;
      send(stranger, to, junk);
      expect(b, DropReason.BAD_MAC1, 1);
      send(stranger, to, Arrays.copyOf(junk, 100)); // too short for an initiation: still only the MAC is looked at
      expect(b, DropReason.BAD_MAC1, 2);
      // longer than any handshake message: not even the MAC is computed
      send(stranger, to, Arrays.copyOf(junk, HandshakeCodec.MAX_INITIATION_BYTES + 1));
      expect(b, DropReason.MALFORMED, 1);

      // a well-formed first contact from a node certified by another root
      RootAuthority rogue = RootAuthority.generate();
      NodeKeys ek = NodeKeys.generate();
      UdpTunnel evil = UdpTunnel.builder().nodeId("evil").bind(new InetSocketAddress("127.0.0.1", 0))
          .identity(ek, rogue.certify("evil", ek.publicKey(), Instant.now().plusSeconds(600))).rootTrust(rogue.trust()).build();
      Node e = new Node("evil", ek, evil);
      evil.start(Harness.context(e));
      h.closeLater(e);
      e.send(b.endpoint(), new byte[20]);
      expect(b, DropReason.BAD_CERTIFICATE, 1);
      evil.close(); // no retries from it while the next case is counted
      // a first contact claiming b's own identity
      NodeKeys mk = NodeKeys.generate();
      UdpTunnel mirror = UdpTunnel.builder().nodeId("b").bind(new InetSocketAddress("127.0.0.1", 0))
          .identity(mk, Harness.ROOT.certify("b", mk.publicKey(), Instant.now().plusSeconds(600))).rootTrust(Harness.ROOT.trust()).build();
      Node m = new Node("b", mk, mirror);
      mirror.start(Harness.context(m));
      h.closeLater(m);
      // (a node never sends to its own id, so address b under another name)
      m.send(WorkerEndpoint.of("b-by-another-name", b.tunnel.boundAddress(), b.keys.publicKey()), new byte[20]);
      expect(b, DropReason.BAD_CERTIFICATE, 2);
      mirror.close();

      assertTrue(b.tunnel.stats().links().isEmpty(), "no state for unauthenticated senders");
      assertEquals(0, b.tunnel.stats().linksOpened());
      assertTrue(b.received.data.isEmpty());
      DatagramPacket reply = new DatagramPacket(new byte[2048], 2048);
      assertThrows(SocketTimeoutException.class, () -> stranger.receive(reply), "no reply to strangers");
    }
  }

  /**
   * Rolling upgrade (README): a node of the previous release speaks datagram format 1, which a
   * version-2 node does not; what it sends (first contacts, data) is counted under its own reason,
   * unanswered, and creates no link.
   */
  @Test
  void versionOneDatagramsAreCountedUnderTheirOwnReasonAndUnanswered() throws Exception {
    try (Harness h = new Harness();
        DatagramSocket oldA = new DatagramSocket(new InetSocketAddress("127.0.0.2", 0));
        DatagramSocket oldB = new DatagramSocket(new InetSocketAddress("127.0.0.3", 0))) {
      Node b = h.node("b");
      InetSocketAddress to = b.tunnel.boundAddress();
      oldA.setSoTimeout(300);
      // v1 first contact: | 1 | 5 (first contact) | key id | flags | epoch | counter | body ... |
      byte[] firstContact = new byte[16 + 200];
      new java.util.Random(3).nextBytes(firstContact);
      firstContact[0] = 1;
      firstContact[1] = 5;
      byte[] data = new byte[16 + 100 + 16];
      data[0] = 1;
      data[1] = 1;
      for (int i = 0; i < 3; i++) {
        send(oldA, to, firstContact);
        send(oldA, to, data);
        send(oldB, to, data);
      }
      expect(b, DropReason.UNSUPPORTED_VERSION, 9);
      assertEquals(0, b.tunnel.stats().drops(DropReason.UNKNOWN_VERSION));
      assertThrows(SocketTimeoutException.class, () -> oldA.receive(new DatagramPacket(new byte[2048], 2048)));
      assertTrue(b.tunnel.stats().links().isEmpty());
    }
  }

  @Test
  void replayedForgedAndWrongKeyDatagramsOnALiveLink() throws Exception {
    try (Harness h = new Harness()) {
      Node b = h.node("b");
      try (Relay relay = new Relay(new InetSocketAddress("127.0.0.1", 0), b.tunnel.boundAddress())) {
        Node a = h.node("a");
        WorkerEndpoint viaRelay = WorkerEndpoint.of("b", relay.address(), b.keys.publicKey());
        for (int i = 0; i < 3; i++) {
          a.send(viaRelay, UdpTunnelTest.packet(300, i));
          assertNotNull(b.received.next());
        }
        byte[] data = relay.toTarget.stream().filter(x -> x[1] == Datagram.TYPE_DATA).reduce((x, y) -> y).orElseThrow();
        byte[] hello = relay.toTarget.stream().filter(x -> x[1] == Datagram.TYPE_INITIATION).findFirst().orElseThrow();

        relay.inject(data);
        expect(b, DropReason.REPLAYED, 1);
        relay.inject(hello); // its timestamp is not newer than the last accepted from a's key
        expect(b, DropReason.REPLAYED, 2);

        // forged: a fresh counter but a tampered body
        byte[] forged = data.clone();
        ByteBuffer.wrap(forged).putLong(8, 1_000_000L);
        forged[40] ^= 1;
        relay.inject(forged);
        expect(b, DropReason.AUTH_FAILED, 1);
        // truncated below its tag
        relay.inject(Arrays.copyOf(data, 20));
        expect(b, DropReason.TRUNCATED, 1);

        // wrong key: the session's receiver index, a fresh counter, sealed under another key
        byte[] body = new byte[300];
        ByteBuffer out = ByteBuffer.allocate(400);
        int index = ByteBuffer.wrap(data).getInt(4);
        Datagram.seal(CipherSuite.AES_256_GCM, new SecretKeySpec(new byte[32], "AES"), Datagram.TYPE_DATA, index, 2_000_000L,
            ByteBuffer.wrap(body), out);
        relay.inject(Arrays.copyOf(out.array(), out.position()));
        expect(b, DropReason.AUTH_FAILED, 2);
        // a receiver index no session has
        byte[] otherIndex = data.clone();
        ByteBuffer.wrap(otherIndex).putInt(4, index + 7);
        relay.inject(otherIndex);
        expect(b, DropReason.UNKNOWN_PEER, 1);

        assertNull(b.received.data.poll(300, TimeUnit.MILLISECONDS), "nothing bad was delivered");
        assertEquals(1, b.tunnel.stats().links().size());
        // the link still works
        a.send(viaRelay, UdpTunnelTest.packet(300, 9));
        assertNotNull(b.received.next());
      }
    }
  }

  @Test
  void certificateVerificationsAreBoundedPerSecondAndCached() throws Exception {
    try (Harness h = new Harness()) {
      Node b = h.node("b", x -> x.firstContactsPerSecond(1));
      java.util.List<Node> peers = new java.util.ArrayList<>();
      for (int i = 0; i < 4; i++) {
        peers.add(h.node("c" + i));
      }
      for (Node c : peers) {
        c.send(b.endpoint(), new byte[20]);
      }
      // one verification per second: the others wait (and retry) until the budget refills
      Harness.await("all four verified in turn", Duration.ofSeconds(20), () -> b.received.data.size() == 4);
      assertTrue(b.tunnel.stats().drops(DropReason.VERIFY_LIMITED) >= 2, "over the budget: " + b.tunnel.stats().drops());
      assertEquals(4, b.tunnel.certificateVerifications());
      // a rekey presents the same certificate: served from the cache, no new verification
      int before = peers.get(0).tunnel.stats().link("b").keyId();
      peers.get(0).tunnel.rekey("b");
      Harness.await("rekeyed", Duration.ofSeconds(5), () -> peers.get(0).tunnel.stats().link("b").keyId() != before);
      assertEquals(4, b.tunnel.certificateVerifications());
    }
  }

  private static void send(DatagramSocket s, InetSocketAddress to, byte[] b) throws Exception {
    s.send(new DatagramPacket(b, b.length, to));
  }
}
