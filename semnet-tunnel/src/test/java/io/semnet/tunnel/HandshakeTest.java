package io.semnet.tunnel;

import static io.semnet.tunnel.UdpTunnelTest.packet;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.trust.NodeCertificate;
import io.semnet.core.trust.RevokedCertificate;
import io.semnet.tunnel.Harness.Delivery;
import io.semnet.tunnel.Harness.Node;
import io.semnet.tunnel.internal.Datagram;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/**
 * The tunnel's handshake on the data path (issue 14): no key/nonce pair repeats across link
 * re-creation or a restart with the clock stepped back, an address or index cannot be taken over
 * by another certified node, a new handshake replaces a live session only after key confirmation,
 * revoked nodes and older certificates are refused, and session keys expire.
 */
class HandshakeTest {
  private static final InetSocketAddress ANY = new InetSocketAddress("127.0.0.1", 0);

  /** Transport datagrams carrying {@code plain} as their body's first bytes cannot be told apart from outside; their sealed bodies must all differ. */
  private static List<byte[]> transport(Relay r, int type) {
    List<byte[]> out = new ArrayList<>();
    for (byte[] x : r.toTarget) {
      if (x[1] == type) {
        out.add(x);
      }
    }
    return out;
  }

  private static Set<String> uniqueBodies(List<byte[]> datagrams) {
    Set<String> s = new HashSet<>();
    for (byte[] d : datagrams) {
      s.add(Arrays.toString(Arrays.copyOfRange(d, Datagram.HEADER_BYTES, d.length)));
    }
    return s;
  }

  @Test
  void noKeyNoncePairRepeatsAcrossLinkRecreation() throws Exception {
    try (Harness h = new Harness()) {
      Node b = h.node("b");
      try (Relay relay = new Relay(ANY, b.tunnel.boundAddress())) {
        Node a = h.node("a", x -> x.idleTimeout(Duration.ofMillis(400)).maxLinks(1));
        WorkerEndpoint viaRelay = WorkerEndpoint.of("b", relay.address(), b.keys.publicKey());
        for (int round = 0; round < 3; round++) {
          // the same first packet on a fresh link each round (idle close re-creates it)
          a.send(viaRelay, packet(100, 5));
          assertArrayEquals(packet(100, 5), b.received.next().bytes());
          long closedBefore = a.tunnel.stats().linksIdleClosed();
          Harness.await("idle close", Duration.ofSeconds(5), () -> a.tunnel.stats().linksIdleClosed() > closedBefore);
        }
        List<byte[]> data = transport(relay, Datagram.TYPE_DATA);
        assertEquals(3, data.size());
        for (byte[] d : data) {
          // after the initiator's confirming probe (counter 0), the first data datagram of every link has counter 1
          assertEquals(1, ByteBuffer.wrap(d).getLong(8), "each link's counter starts afresh");
        }
        // same plaintext, same counter: equal ciphertexts would mean a repeated key and nonce
        assertEquals(3, uniqueBodies(data).size(), "fresh session keys for every link");
        assertEquals(3, transport(relay, Datagram.TYPE_INITIATION).stream().map(Arrays::toString).distinct().count());
      }
    }
  }

  @Test
  void restartWithTheClockSteppedBackContinuesAboveThePersistedTimestamp() throws Exception {
    try (Harness h = new Harness()) {
      Node b = h.node("b");
      NodeKeys aKeys = NodeKeys.generate();
      TimestampPersistence file = TimestampPersistence.inMemory(); // stands for the node's identity file
      Node a = h.node("a", aKeys, ANY, x -> x.timestampPersistence(file), null);
      a.send(b.endpoint(), packet(50, 1));
      assertNotNull(b.received.next());
      byte[] first = file.load();
      assertNotNull(first, "the issued timestamp was persisted");
      a.close();

      Clock hourBack = Clock.offset(Clock.systemUTC(), Duration.ofHours(-1));
      // without the persisted timestamp, the stepped-back clock's initiations look like replays
      Node lost = h.node("a", aKeys, ANY, x -> x.clock(hourBack), null);
      lost.send(b.endpoint(), packet(50, 2));
      Harness.await("refused as replay", Duration.ofSeconds(5), () -> b.tunnel.stats().drops(DropReason.REPLAYED) >= 1);
      assertNull(b.received.data.poll(300, TimeUnit.MILLISECONDS));
      lost.close();

      // with it, the restarted node continues above what it issued before
      Node back = h.node("a", aKeys, ANY, x -> x.clock(hourBack).timestampPersistence(file), null);
      back.send(b.endpoint(), packet(50, 3));
      Delivery d = b.received.next();
      assertNotNull(d, "restart with the clock an hour back is accepted");
      assertArrayEquals(packet(50, 3), d.bytes());
      assertTrue(Arrays.compare(file.load(), first) > 0, "timestamps keep increasing");
    }
  }

  @Test
  void anotherCertifiedNodeCannotTakeOverAPeersAddressOrIndex() throws Exception {
    try (Harness h = new Harness()) {
      Node b = h.node("b");
      try (Relay shared = new Relay(ANY, b.tunnel.boundAddress()); Relay evilPath = new Relay(ANY, b.tunnel.boundAddress())) {
        Node a = h.node("a");
        a.send(WorkerEndpoint.of("b", shared.address(), b.keys.publicKey()), packet(60, 0));
        assertNotNull(b.received.next());
        InetSocketAddress aSeenAt = b.tunnel.stats().link("a").peer().address();
        assertEquals(shared.address(), aSeenAt);

        // c, certified by the same root, handshakes with b and its initiation arrives from a's address
        Node c = h.node("c");
        evilPath.impair(1.0, 0); // c's own path drops everything: only the injected copy reaches b
        c.send(WorkerEndpoint.of("b", evilPath.address(), b.keys.publicKey()), packet(60, 1));
        Harness.await("c's initiation captured", Duration.ofSeconds(5), () -> !transport(evilPath, Datagram.TYPE_INITIATION).isEmpty());
        shared.inject(transport(evilPath, Datagram.TYPE_INITIATION).get(0));
        Harness.await("b has a link to c", Duration.ofSeconds(5), () -> b.tunnel.stats().link("c") != null);

        // c forges datagrams with a's receiver index at b: sealed under c's keys, they never open
        byte[] aData = transport(shared, Datagram.TYPE_DATA).get(0);
        int aIndex = ByteBuffer.wrap(aData).getInt(4);
        ByteBuffer out = ByteBuffer.allocate(200);
        Datagram.seal(CipherSuite.AES_256_GCM, new SecretKeySpec(new byte[32], "AES"), Datagram.TYPE_DATA, aIndex, 1_000, ByteBuffer.wrap(
            new byte[60]), out);
        shared.inject(Arrays.copyOf(out.array(), out.position()));
        Harness.await("forged index refused", Duration.ofSeconds(5), () -> b.tunnel.stats().drops(DropReason.AUTH_FAILED) == 1);

        // a's link is untouched: same address, and its traffic still flows both ways
        assertEquals(aSeenAt, b.tunnel.stats().link("a").peer().address());
        a.send(WorkerEndpoint.of("b", shared.address(), b.keys.publicKey()), packet(60, 2));
        Delivery d = b.received.next();
        assertNotNull(d);
        assertEquals("a", d.from().nodeId());
        assertArrayEquals(packet(60, 2), d.bytes());
        b.send(d.from(), packet(60, 3));
        assertArrayEquals(packet(60, 3), a.received.next().bytes());
      }
    }
  }

  @Test
  void aNewHandshakeReplacesALiveSessionOnlyAfterKeyConfirmation() throws Exception {
    try (Harness h = new Harness()) {
      Node b = h.node("b");
      NodeKeys aKeys = NodeKeys.generate();
      Node a = h.node("a", aKeys, ANY, x -> {}, null);
      a.send(b.endpoint(), packet(40, 0));
      Delivery first = b.received.next();
      assertNotNull(first);
      int liveKey = b.tunnel.stats().link("a").keyId();

      // a second holder of a's key (a restarted copy) sends one fresh initiation and is never heard from again
      try (Relay cut = new Relay(ANY, b.tunnel.boundAddress())) {
        cut.impair(1.0, 0);
        Node copy = h.node("a", aKeys, ANY, x -> {}, null);
        copy.send(WorkerEndpoint.of("b", cut.address(), b.keys.publicKey()), packet(40, 1));
        Harness.await("initiation captured", Duration.ofSeconds(5), () -> !transport(cut, Datagram.TYPE_INITIATION).isEmpty());
        copy.close();
        cut.inject(transport(cut, Datagram.TYPE_INITIATION).get(0));
        Harness.await("b answered it", Duration.ofSeconds(5), () -> b.tunnel.stats().link("a").txPackets() > 1);
      }
      // unconfirmed: b still sends under the live session, which the real a holds, and from a's address
      assertEquals(liveKey, b.tunnel.stats().link("a").keyId());
      assertEquals(a.tunnel.boundAddress(), b.tunnel.stats().link("a").peer().address());
      b.send(first.from(), packet(40, 2));
      assertArrayEquals(packet(40, 2), a.received.next().bytes());
      a.send(b.endpoint(), packet(40, 3));
      assertArrayEquals(packet(40, 3), b.received.next().bytes());

      // a real rekey by a is confirmed by a's next datagram and then replaces the live session
      a.tunnel.rekey("b");
      Harness.await("rekey confirmed", Duration.ofSeconds(5), () -> b.tunnel.stats().link("a").keyId() != liveKey);
      b.send(first.from(), packet(40, 4));
      assertArrayEquals(packet(40, 4), a.received.next().bytes());
    }
  }

  @Test
  void aRevokedNodeLosesItsLinkAndIsRefused() throws Exception {
    try (Harness h = new Harness()) {
      Node b = h.node("b");
      Node a = h.node("a", x -> x.probesBeforeDown(1));
      a.send(b.endpoint(), packet(30, 0));
      assertNotNull(b.received.next());
      b.tunnel.revoke(Set.of("a"));
      Harness.await("link closed", Duration.ofSeconds(3), () -> b.tunnel.stats().link("a") == null);
      // a notices unanswered probes and tries again: refused, nothing delivered, no link
      for (int i = 0; i < 5; i++) {
        a.send(b.endpoint(), packet(30, 1));
        Thread.sleep(100);
      }
      Harness.await("refused as revoked", Duration.ofSeconds(10), () -> b.tunnel.stats().drops(DropReason.REVOKED) >= 1);
      assertNull(b.received.data.poll(200, TimeUnit.MILLISECONDS));
      assertNull(b.tunnel.stats().link("a"));
      // taken off the list, it comes back
      b.tunnel.revoke(Set.of());
      Delivery d = null;
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (d == null && System.nanoTime() < end) {
        a.send(b.endpoint(), packet(30, 2));
        d = b.received.data.poll(200, TimeUnit.MILLISECONDS);
      }
      assertNotNull(d, "reinstated node reconnects");
    }
  }

  /**
   * Three nodes linked both ways round; the root revokes a's certificate (by serial) at b and c:
   * b (which a opened its link to, so b holds a's certificate) and c (which opened its link to a, so
   * it knows only a's key) both close their links to a within seconds, refuse a's new initiations
   * and their own sends to a, counted as REVOKED; b and c keep talking; an earlier certificate of a
   * is revoked with it; a registered again with a new key (a later serial) gets through.
   */
  @Test
  void aRevokedCertificateLosesEveryLinkAndIsRefused() throws Exception {
    try (Harness h = new Harness()) {
      Node b = h.node("b");
      Node c = h.node("c");
      NodeKeys aKeys = NodeKeys.generate();
      NodeCertificate aCert = Harness.ROOT.certify("a", aKeys.publicKey(), Instant.now().plus(Duration.ofDays(1)));
      Node a = h.node("a", aKeys, ANY, x -> x.identity(aKeys, aCert).probesBeforeDown(1), null);
      a.send(b.endpoint(), packet(30, 0));
      assertNotNull(b.received.next());
      c.send(a.endpoint(), packet(31, 0));
      assertNotNull(a.received.next());
      b.send(c.endpoint(), packet(32, 0));
      assertNotNull(c.received.next());
      assertNotNull(b.tunnel.stats().link("a"));
      assertNotNull(c.tunnel.stats().link("a"));

      List<RevokedCertificate> list = List.of(RevokedCertificate.of(aCert));
      long t0 = System.nanoTime();
      b.tunnel.revokeCertificates(list);
      c.tunnel.revokeCertificates(list);
      Harness.await("links to a closed", Duration.ofSeconds(3),
          () -> b.tunnel.stats().link("a") == null && c.tunnel.stats().link("a") == null);
      System.out.printf("links to the revoked node closed after %.1f ms%n", (System.nanoTime() - t0) / 1e6);
      assertTrue(b.tunnel.stats().drops(DropReason.REVOKED) >= 1 && c.tunnel.stats().drops(DropReason.REVOKED) >= 1);

      // a tries again at b (new initiations): refused; c tries to reach a: refused before any handshake
      long bRefusedBefore = b.tunnel.stats().drops(DropReason.REVOKED);
      long cRefusedBefore = c.tunnel.stats().drops(DropReason.REVOKED);
      for (int i = 0; i < 5; i++) {
        a.send(b.endpoint(), packet(30, 1));
        c.send(a.endpoint(), packet(31, 1));
        Thread.sleep(100);
      }
      Harness.await("a's initiations refused", Duration.ofSeconds(10), () -> b.tunnel.stats().drops(DropReason.REVOKED) > bRefusedBefore);
      assertTrue(c.tunnel.stats().drops(DropReason.REVOKED) >= cRefusedBefore + 5, c.tunnel.stats().drops().toString());
      assertNull(b.received.data.poll(200, TimeUnit.MILLISECONDS));
      assertNull(a.received.data.poll(200, TimeUnit.MILLISECONDS));
      assertNull(b.tunnel.stats().link("a"));
      assertNull(c.tunnel.stats().link("a"));

      // b and c are not affected
      c.send(b.endpoint(), packet(33, 0));
      assertArrayEquals(packet(33, 0), b.received.next().bytes());

      // an earlier certificate of a (a renewal superseded it) is revoked with it
      NodeKeys earlierKeys = NodeKeys.generate();
      Node earlier = h.node("a", earlierKeys, ANY, x -> x.identity(earlierKeys,
          Harness.ROOT.certify("a", earlierKeys.publicKey(), aCert.serial() - 1, Instant.now(), Instant.now().plus(Duration.ofDays(1)))), null);
      long bRefused = b.tunnel.stats().drops(DropReason.REVOKED);
      earlier.send(b.endpoint(), packet(30, 2));
      Harness.await("an earlier certificate refused", Duration.ofSeconds(10), () -> b.tunnel.stats().drops(DropReason.REVOKED) > bRefused);
      assertNull(b.received.data.poll(200, TimeUnit.MILLISECONDS));

      // a registered again (a new key, so a later serial) is not on the list, either way round
      NodeKeys newKeys = NodeKeys.generate();
      NodeCertificate later = Harness.ROOT.certify("a", newKeys.publicKey(), Instant.now().plus(Duration.ofDays(1)));
      Node a2 = h.node("a", newKeys, ANY, x -> x.identity(newKeys, later), null);
      a2.send(b.endpoint(), packet(30, 3));
      assertArrayEquals(packet(30, 3), b.received.next().bytes());
      c.send(a2.endpoint(), packet(31, 3));
      assertArrayEquals(packet(31, 3), a2.received.next().bytes());
    }
  }

  @Test
  void aRenewedCertificateIsPresentedFromTheNextHandshake() throws Exception {
    try (Harness h = new Harness()) {
      Node b = h.node("b");
      Instant soon = Instant.now().plusSeconds(3);
      NodeKeys aKeys = NodeKeys.generate();
      NodeKeys cKeys = NodeKeys.generate();
      Node a = h.node("a", aKeys, ANY, x -> x.identity(aKeys, Harness.ROOT.certify("a", aKeys.publicKey(), soon)), null);
      Node c = h.node("c", cKeys, ANY, x -> x.identity(cKeys, Harness.ROOT.certify("c", cKeys.publicKey(), soon)), null);
      a.send(b.endpoint(), packet(40, 0));
      assertNotNull(b.received.next());
      c.send(b.endpoint(), packet(41, 0));
      assertNotNull(b.received.next());
      // what a renewal must not accept: another node's, another key's, or an unverifiable certificate
      assertThrows(IllegalArgumentException.class,
          () -> a.tunnel.updateCertificate(Harness.ROOT.certify("c", aKeys.publicKey(), Instant.now().plusSeconds(3600))));
      assertThrows(IllegalArgumentException.class,
          () -> a.tunnel.updateCertificate(Harness.ROOT.certify("a", cKeys.publicKey(), Instant.now().plusSeconds(3600))));
      assertThrows(IllegalArgumentException.class, () -> a.tunnel.updateCertificate(
          io.semnet.core.trust.RootAuthority.generate().certify("a", aKeys.publicKey(), Instant.now().plusSeconds(3600))));
      a.tunnel.updateCertificate(Harness.ROOT.certify("a", aKeys.publicKey(), Instant.now().plusSeconds(3600)));
      while (!Instant.now().isAfter(soon.plusMillis(500))) {
        Thread.sleep(100);
      }
      // both first certificates expired: a's next handshake carries the renewed one, c's the expired one
      long refusedBefore = b.tunnel.stats().drops(DropReason.BAD_CERTIFICATE);
      int aKey = b.tunnel.stats().link("a").keyId();
      int cKey = b.tunnel.stats().link("c").keyId();
      a.tunnel.rekey("b");
      c.tunnel.rekey("b");
      Harness.await("c refused", Duration.ofSeconds(5), () -> b.tunnel.stats().drops(DropReason.BAD_CERTIFICATE) > refusedBefore);
      Harness.await("a's new session", Duration.ofSeconds(5), () -> b.tunnel.stats().link("a").keyId() != aKey);
      assertEquals(cKey, b.tunnel.stats().link("c").keyId(), "c's expired certificate got no new session");
      a.send(b.endpoint(), packet(40, 1));
      Delivery d = b.received.next();
      assertNotNull(d, "a's handshake with the renewed certificate was accepted");
      assertArrayEquals(packet(40, 1), d.bytes());
    }
  }

  @Test
  void anOlderCertificateNeverReplacesALiveLink() throws Exception {
    try (Harness h = new Harness()) {
      Node b = h.node("b");
      Node a = h.node("a");
      a.send(b.endpoint(), packet(30, 0));
      assertNotNull(b.received.next());
      // a's identity under another key, certified with a smaller serial than the live link's
      // certificate (though it expires later: notAfter does not decide)
      NodeKeys oldKeys = NodeKeys.generate();
      Node stale = h.node("a", oldKeys, ANY, x -> x.identity(oldKeys,
          Harness.ROOT.certify("a", oldKeys.publicKey(), 0, Instant.now(), Instant.now().plus(Duration.ofDays(2)))), null);
      stale.send(b.endpoint(), packet(30, 1));
      Harness.await("refused", Duration.ofSeconds(5), () -> b.tunnel.stats().drops(DropReason.OLDER_CERTIFICATE) >= 1);
      assertTrue(b.tunnel.stats().link("a").peer().hasPublicKey(a.keys.publicKey()), "the live link keeps its key");
      a.send(b.endpoint(), packet(30, 2));
      assertArrayEquals(packet(30, 2), b.received.next().bytes());
    }
  }

  @Test
  void sessionKeysAreRefusedAfterTheRejectTime() throws Exception {
    try (Harness h = new Harness()) {
      Node b = h.node("b", x -> x.rejectAfter(Duration.ofMillis(1500)).rekeyAfter(Duration.ofMillis(600)).keyGrace(Duration.ofSeconds(20)));
      try (Relay relay = new Relay(ANY, b.tunnel.boundAddress())) {
        Node a = h.node("a", x -> x.rejectAfter(Duration.ofMillis(1500)).rekeyAfter(Duration.ofMillis(600)).keyGrace(Duration.ofSeconds(20)));
        WorkerEndpoint viaRelay = WorkerEndpoint.of("b", relay.address(), b.keys.publicKey());
        a.send(viaRelay, packet(30, 0));
        assertNotNull(b.received.next());
        // one datagram of the first session held back on the path
        relay.impair(1.0, 0);
        a.send(viaRelay, packet(30, 1));
        Harness.await("held", Duration.ofSeconds(5), () -> transport(relay, Datagram.TYPE_DATA).size() == 2);
        byte[] held = transport(relay, Datagram.TYPE_DATA).get(1);
        relay.impair(0, 0);
        // traffic goes on across rekeys
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2000);
        int i = 2;
        while (System.nanoTime() < end) {
          a.send(viaRelay, packet(30, i++));
          Thread.sleep(20);
        }
        assertTrue(a.tunnel.stats().link("b").keyId() >= 2, "rekeyed before the reject time");
        b.received.data.clear();
        relay.inject(held);
        Harness.await("expired key refused", Duration.ofSeconds(5), () -> b.tunnel.stats().drops(DropReason.KEY_EXPIRED)
            + b.tunnel.stats().drops(DropReason.UNKNOWN_PEER) >= 1);
        assertNull(b.received.data.poll(200, TimeUnit.MILLISECONDS));
        assertFalse(b.tunnel.stats().drops(DropReason.KEY_EXPIRED) + b.tunnel.stats().drops(DropReason.UNKNOWN_PEER) > 1);
      }
    }
  }
}
