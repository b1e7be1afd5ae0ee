package io.semnet.tunnel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.node.Tunnel;
import io.semnet.core.policy.NodeView;
import io.semnet.core.trust.RootAuthority;
import io.semnet.tunnel.Harness.Delivery;
import io.semnet.tunnel.Harness.Node;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class UdpTunnelTest {

  static byte[] packet(int n, int seed) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (i * 31 + seed);
    }
    return b;
  }

  @Test
  void dataNoticesAndProbesRoundTrip() throws Exception {
    try (Harness h = new Harness()) {
      Node a = h.node("a");
      Node b = h.node("b");
      byte[] p = packet(1400, 1);
      a.send(b.endpoint(), p);
      Delivery d = b.received.next();
      assertNotNull(d, "b got the packet");
      assertArrayEquals(p, d.bytes());
      assertEquals("a", d.from().nodeId());
      assertTrue(d.from().hasPublicKey(a.keys.publicKey()), "sender identified by its certified key");
      Harness.await("batch end signalled", Duration.ofSeconds(5), () -> b.received.batches > 0);

      // b answers the endpoint it was given (the observed address), without ever querying routes
      b.send(d.from(), packet(60, 2));
      Delivery back = a.received.next();
      assertNotNull(back);
      assertArrayEquals(packet(60, 2), back.bytes());
      assertEquals("b", back.from().nodeId());

      b.tunnel.sendRouteNotFound(d.from(), InetAddress.getByName("10.1.2.3"));
      Delivery nf = a.received.notFound.poll(5, TimeUnit.SECONDS);
      assertNotNull(nf);
      assertEquals(InetAddress.getByName("10.1.2.3"), nf.ip());
      b.tunnel.sendRouteNotFound(d.from(), InetAddress.getByName("fd00::42"));
      assertEquals(InetAddress.getByName("fd00::42"), a.received.notFound.poll(5, TimeUnit.SECONDS).ip());

      Harness.await("RTT measured by probes", Duration.ofSeconds(5), () -> a.view.rttNanos("b") > 0 && b.view.rttNanos("a") > 0);
      LinkStats ls = a.tunnel.stats().link("b");
      assertTrue(ls.lastRttNanos() > 0 && ls.up() && ls.established());
      assertEquals(1, ls.txBytes() / 1400);
      assertEquals(0, a.tunnel.stats().totalDrops());
      assertEquals(0, b.tunnel.stats().totalDrops());
      assertTrue(a.tunnel.stats().receiveBufferDrops() >= 0, "kernel drop counter readable");
    }
  }

  @Test
  void manyPacketsInBatchesArriveInOrderOnLoopback() throws Exception {
    try (Harness h = new Harness()) {
      Node a = h.node("a");
      Node b = h.node("b");
      a.send(b.endpoint(), packet(100, 0));
      assertNotNull(b.received.next());
      for (int i = 0; i < 200; i++) {
        a.tunnel.send(b.endpoint(), java.nio.ByteBuffer.wrap(packet(500, i)));
        if (i % 16 == 15) {
          a.tunnel.flush();
        }
      }
      a.tunnel.flush();
      for (int i = 0; i < 200; i++) {
        Delivery d = b.received.next();
        assertNotNull(d, "packet " + i);
        assertArrayEquals(packet(500, i), d.bytes());
      }
    }
  }

  @Test
  void chacha20Poly1305Suite() throws Exception {
    try (Harness h = new Harness()) {
      Node a = h.node("a", x -> x.cipherSuite(CipherSuite.CHACHA20_POLY1305));
      Node b = h.node("b", x -> x.cipherSuite(CipherSuite.CHACHA20_POLY1305));
      for (int i = 0; i < 20; i++) {
        a.send(b.endpoint(), packet(1400, i));
        assertArrayEquals(packet(1400, i), b.received.next().bytes());
      }
      b.send(a.endpoint(), packet(100, 1));
      assertArrayEquals(packet(100, 1), a.received.next().bytes());
    }
  }

  @Test
  void ipv6Underlay() throws Exception {
    try (Harness h = new Harness()) {
      Node a = h.node("a6", NodeKeys.generate(), new InetSocketAddress("::1", 0), x -> {});
      Node b = h.node("b6", NodeKeys.generate(), new InetSocketAddress("::1", 0), x -> {});
      a.send(b.endpoint(), packet(1200, 3));
      Delivery d = b.received.next();
      assertNotNull(d);
      assertArrayEquals(packet(1200, 3), d.bytes());
      assertTrue(d.from().address().getAddress() instanceof java.net.Inet6Address);
      assertEquals(40 + 8 + 16 + 16, a.tunnel.overheadBytes(true));
      assertEquals(20 + 8 + 16 + 16, a.tunnel.overheadBytes(false));
    }
  }

  @Test
  void dualStackSocketServesIpv4Peers() throws Exception {
    try (Harness h = new Harness()) {
      Node b = h.node("b", NodeKeys.generate(), new InetSocketAddress("::", 0), x -> {});
      Node a = h.node("a");
      WorkerEndpoint bV4 = WorkerEndpoint.of("b", new InetSocketAddress("127.0.0.1", b.tunnel.boundAddress().getPort()), b.keys.publicKey());
      a.send(bV4, packet(500, 4));
      Delivery d = b.received.next();
      assertArrayEquals(packet(500, 4), d.bytes());
      b.send(d.from(), packet(70, 5));
      assertArrayEquals(packet(70, 5), a.received.next().bytes());
    }
  }

  @Test
  void udpGroAndUnbatchedModesCarryTraffic() throws Exception {
    try (Harness h = new Harness()) {
      Node a = h.node("a", x -> x.batching(false));
      Node b = h.node("b", x -> x.udpGro(true));
      for (int i = 0; i < 50; i++) {
        a.tunnel.send(b.endpoint(), java.nio.ByteBuffer.wrap(packet(1300, i)));
      }
      for (int i = 0; i < 50; i++) {
        Delivery d = b.received.next();
        assertNotNull(d, "packet " + i);
        assertArrayEquals(packet(1300, i), d.bytes());
      }
      b.send(a.endpoint(), packet(10, 1));
      assertArrayEquals(packet(10, 1), a.received.next().bytes());
    }
  }

  @Test
  void runsOfDatagramsGoOutAsOneSegmentedSendAndArriveInOrderWithAndWithoutGro() throws Exception {
    try (Harness h = new Harness()) {
      Node a = h.node("a");
      Node gro = h.node("b", x -> x.udpGro(true));
      Node plain = h.node("c", x -> x.udpGro(false));
      // warm up both links so the handshake's own datagrams are out of the way
      a.send(gro.endpoint(), packet(100, 0));
      a.send(plain.endpoint(), packet(100, 0));
      assertNotNull(gro.received.next());
      assertNotNull(plain.received.next());
      long before = a.tunnel.stats().segmentedSends();
      // one batch: a run to b, a run to c, back to b with a different size, each ending short
      List<byte[]> toB = new java.util.ArrayList<>();
      List<byte[]> toC = new java.util.ArrayList<>();
      for (int i = 1; i <= 30; i++) {
        toB.add(packet(i == 30 ? 700 : 1300, i));
      }
      for (int i = 1; i <= 20; i++) {
        toC.add(packet(i == 20 ? 10 : 1200, i));
      }
      List<byte[]> toB2 = new java.util.ArrayList<>();
      for (int i = 31; i <= 40; i++) {
        toB2.add(packet(900, i));
      }
      toB.forEach(p -> a.tunnel.send(gro.endpoint(), java.nio.ByteBuffer.wrap(p)));
      toC.forEach(p -> a.tunnel.send(plain.endpoint(), java.nio.ByteBuffer.wrap(p)));
      toB2.forEach(p -> a.tunnel.send(gro.endpoint(), java.nio.ByteBuffer.wrap(p)));
      a.tunnel.flush();
      toB.addAll(toB2);
      for (byte[] expected : toB) {
        Delivery d = gro.received.next();
        assertNotNull(d);
        assertArrayEquals(expected, d.bytes());
      }
      for (byte[] expected : toC) {
        Delivery d = plain.received.next();
        assertNotNull(d);
        assertArrayEquals(expected, d.bytes());
      }
      assertEquals(3, a.tunnel.stats().segmentedSends() - before, "three runs, three sends");
      assertEquals(0, gro.tunnel.stats().totalDrops());
      assertEquals(0, plain.tunnel.stats().totalDrops());
    }
  }

  @Test
  void loneDatagramsSentDirectlyNeverOvertakeQueuedRuns() throws Exception {
    try (Harness h = new Harness()) {
      Node a = h.node("a");
      Node b = h.node("b");
      a.send(b.endpoint(), packet(100, 0));
      assertNotNull(b.received.next());
      int seq = 0;
      int checked = 0;
      for (int round = 0; round < 200; round++) {
        if (round % 8 == 1) {
          // now and then, let everything sent arrive first: with nothing queued, the next lone
          // datagram must take the direct path (on a loaded machine the event loop may otherwise
          // never drain between rounds, and every lone datagram rightly queues behind the runs)
          checked = receiveInOrder(b, checked, seq);
        }
        int n = round % 4 == 0 ? 12 : 1;
        for (int k = 0; k < n; k++) {
          java.nio.ByteBuffer p = java.nio.ByteBuffer.wrap(packet(1200, 0));
          p.putInt(0, ++seq);
          a.tunnel.send(b.endpoint(), p);
        }
        a.tunnel.flush();
      }
      receiveInOrder(b, checked, seq);
      assertTrue(a.tunnel.stats().directSends() > 0, "lone datagrams went out directly");
      assertTrue(a.tunnel.stats().segmentedSends() > 0, "runs went through the event loop");
    }
  }

  /** Takes datagrams {@code from + 1 .. to} at {@code b}, asserting they come in the order sent; returns {@code to}. */
  private static int receiveInOrder(Node b, int from, int to) throws Exception {
    for (int expected = from + 1; expected <= to; expected++) {
      Delivery d = b.received.next();
      assertNotNull(d, "datagram " + expected);
      assertEquals(expected, java.nio.ByteBuffer.wrap(d.bytes()).getInt(0), "in the order sent");
    }
    return to;
  }

  @Test
  void receiveBufferOverflowIsVisibleInTheCounters() throws Exception {
    try (Harness h = new Harness()) {
      java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
      java.util.concurrent.atomic.AtomicInteger got = new java.util.concurrent.atomic.AtomicInteger();
      io.semnet.core.node.TunnelReceiver stalling = new io.semnet.core.node.TunnelReceiver() {
        @Override
        public void onData(WorkerEndpoint from, java.nio.ByteBuffer p) {
          if (got.incrementAndGet() == 2) {
            try {
              release.await(10, TimeUnit.SECONDS); // the event loop stops reading; the socket buffer fills
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        }

        @Override
        public void onRouteNotFound(WorkerEndpoint from, InetAddress ip) {}
      };
      Node b = h.node("b", NodeKeys.generate(), new InetSocketAddress("127.0.0.1", 0), x -> x.socketBuffers(4096, 1 << 20), stalling);
      Node a = h.node("a");
      a.send(b.endpoint(), packet(100, 0));
      Harness.await("link up", Duration.ofSeconds(5), () -> got.get() == 1);
      assertEquals(0, b.tunnel.stats().receiveBufferDrops());
      for (int i = 0; i < 300; i++) {
        a.tunnel.send(b.endpoint(), java.nio.ByteBuffer.wrap(packet(1400, i)));
      }
      a.tunnel.flush();
      Thread.sleep(300);
      release.countDown();
      Harness.await("kernel drops counted", Duration.ofSeconds(5), () -> b.tunnel.stats().receiveBufferDrops() > 0);
    }
  }

  @Test
  void leastRecentlyUsedLinkIsEvictedAtTheLimit() throws Exception {
    try (Harness h = new Harness()) {
      Node a = h.node("a", x -> x.maxLinks(2));
      Node b = h.node("b");
      Node c = h.node("c");
      Node d = h.node("d");
      a.send(b.endpoint(), packet(10, 0));
      assertNotNull(b.received.next());
      a.send(c.endpoint(), packet(10, 0));
      assertNotNull(c.received.next());
      a.send(b.endpoint(), packet(10, 1)); // b is now more recent than c
      assertNotNull(b.received.next());
      a.send(d.endpoint(), packet(10, 2));
      assertNotNull(d.received.next());
      TunnelStats s = a.tunnel.stats();
      assertEquals(2, s.links().size());
      assertNotNull(s.link("b"));
      assertNotNull(s.link("d"));
      assertNull(s.link("c"), "c was least recently used");
      assertEquals(1, s.linksEvicted());
      // c is reachable again on demand (evicting b, now the least recent)
      a.send(c.endpoint(), packet(10, 3));
      assertArrayEquals(packet(10, 3), c.received.next().bytes());
      assertNull(a.tunnel.stats().link("b"));
    }
  }

  @Test
  void idleLinksAreClosedBySweep() throws Exception {
    try (Harness h = new Harness()) {
      Node a = h.node("a", x -> x.idleTimeout(Duration.ofMillis(400)));
      Node b = h.node("b");
      a.send(b.endpoint(), packet(10, 0));
      assertNotNull(b.received.next());
      assertNotNull(a.tunnel.stats().link("b"));
      Harness.await("idle close", Duration.ofSeconds(5), () -> a.tunnel.stats().link("b") == null);
      assertEquals(1, a.tunnel.stats().linksIdleClosed());
      // probes alone do not keep it open, data reopens it
      a.send(b.endpoint(), packet(10, 1));
      assertArrayEquals(packet(10, 1), b.received.next().bytes());
    }
  }

  @Test
  void keysRotateWithoutLossAndOldKeysExpire() throws Exception {
    try (Harness h = new Harness()) {
      Node b = h.node("b", x -> x.keyGrace(Duration.ofMillis(300)));
      try (Relay relay = new Relay(new InetSocketAddress("127.0.0.1", 0), b.tunnel.boundAddress())) {
        Node a = h.node("a", x -> x.rekeyAfter(Duration.ofMillis(400)).keyGrace(Duration.ofMillis(300)));
        WorkerEndpoint viaRelay = WorkerEndpoint.of("b", relay.address(), b.keys.publicKey());
        int sent = 0;
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
        java.util.Set<Integer> keyIds = new java.util.TreeSet<>();
        while (System.nanoTime() < end) {
          a.send(viaRelay, packet(200, sent++));
          LinkStats l = a.tunnel.stats().link("b");
          if (l != null && l.keyId() >= 0) {
            keyIds.add(l.keyId());
          }
          Thread.sleep(5);
        }
        for (int i = 0; i < sent; i++) {
          Delivery d = b.received.next();
          assertNotNull(d, "packet " + i + " of " + sent + " across rekeys");
          assertArrayEquals(packet(200, i), d.bytes());
        }
        assertTrue(keyIds.size() >= 3, "several key ids used: " + keyIds);
        // a data datagram under the first session, replayed after that session's grace: its index is retired
        byte[] old = relay.toTarget.stream().filter(x -> x[1] == io.semnet.tunnel.internal.Datagram.TYPE_DATA).findFirst().orElseThrow();
        long before = b.tunnel.stats().drops(DropReason.STALE_KEY) + b.tunnel.stats().drops(DropReason.UNKNOWN_PEER);
        relay.inject(old);
        Harness.await("old-key datagram dropped", Duration.ofSeconds(5),
            () -> b.tunnel.stats().drops(DropReason.STALE_KEY) + b.tunnel.stats().drops(DropReason.UNKNOWN_PEER) == before + 1);
        assertNull(b.received.data.poll(200, TimeUnit.MILLISECONDS));

        int keyBefore = a.tunnel.stats().link("b").keyId();
        a.tunnel.rekey("b");
        Harness.await("explicit rekey", Duration.ofSeconds(5), () -> a.tunnel.stats().link("b").keyId() != keyBefore);
      }
    }
  }

  @Test
  void restartOfEitherSideRecoversAndOldDatagramsAreRejected() throws Exception {
    try (Harness h = new Harness()) {
      NodeKeys bKeys = NodeKeys.generate();
      Node b = h.node("b", bKeys, new InetSocketAddress("127.0.0.1", 0), x -> x.probesBeforeDown(2));
      InetSocketAddress bAddr = b.tunnel.boundAddress();
      try (Relay relay = new Relay(new InetSocketAddress("127.0.0.1", 0), bAddr)) {
        NodeKeys aKeys = NodeKeys.generate();
        Node a = h.node("a", aKeys, new InetSocketAddress("127.0.0.1", 0), x -> x.probesBeforeDown(2));
        InetSocketAddress aAddr = a.tunnel.boundAddress();
        WorkerEndpoint bViaRelay = WorkerEndpoint.of("b", relay.address(), bKeys.publicKey());
        for (int i = 0; i < 5; i++) {
          a.send(bViaRelay, packet(100, i));
          assertNotNull(b.received.next());
        }
        int oldCaptured = relay.toTarget.size();

        // restart a (same keys, same port): a new handshake with a newer timestamp, fresh keys
        a.close();
        Node a2 = h.node("a", aKeys, aAddr, x -> x.probesBeforeDown(2));
        a2.send(bViaRelay, packet(100, 99));
        Delivery d = b.received.next();
        assertNotNull(d, "restarted sender accepted");
        assertArrayEquals(packet(100, 99), d.bytes());
        // every session has its own receiver index (and fresh keys): (index, counter) never repeats across the two runs
        java.util.Set<String> nonces = new java.util.HashSet<>();
        for (byte[] x : relay.toTarget) {
          if (x[1] >= io.semnet.tunnel.internal.Datagram.TYPE_DATA) {
            assertTrue(nonces.add(java.util.Arrays.toString(java.util.Arrays.copyOfRange(x, 4, 16))), "nonce reused");
          }
        }
        // the first run's datagrams, replayed from the same address: all rejected, nothing delivered
        long dropsBefore = b.tunnel.stats().totalDrops();
        for (int i = 0; i < oldCaptured; i++) {
          relay.inject(relay.toTarget.get(i));
        }
        Harness.await("old-run datagrams dropped", Duration.ofSeconds(5),
            () -> b.tunnel.stats().totalDrops() == dropsBefore + oldCaptured);
        assertNull(b.received.data.poll(300, TimeUnit.MILLISECONDS));

        // restart b: a's session is gone there; a notices unanswered probes, re-handshakes, recovers
        int capturedBeforeB2 = relay.toTarget.size();
        b.close();
        Node b2 = h.node("b", bKeys, bAddr, x -> x.probesBeforeDown(2));
        Harness.await("a marks b down", Duration.ofSeconds(5), () -> !a2.view.isPeerUp("b") || a2.tunnel.stats().link("b").keyId() != 0);
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
        Delivery got = null;
        while (got == null && System.nanoTime() < end) {
          a2.send(bViaRelay, packet(100, 7));
          got = b2.received.data.poll(200, TimeUnit.MILLISECONDS);
        }
        assertNotNull(got, "traffic recovers after the receiver restarted");
        Harness.await("b up again", Duration.ofSeconds(5), () -> a2.view.isPeerUp("b"));
        // what b's previous run accepted is worthless to the new run
        b2.received.data.clear();
        long d2 = b2.tunnel.stats().totalDrops();
        for (int i = 0; i < capturedBeforeB2; i++) {
          relay.inject(relay.toTarget.get(i));
        }
        Harness.await("pre-restart datagrams dropped by new run", Duration.ofSeconds(5),
            () -> b2.tunnel.stats().totalDrops() >= d2 + capturedBeforeB2 - 2);
        assertNull(b2.received.data.poll(300, TimeUnit.MILLISECONDS));
      }
    }
  }

  @Test
  void aPeerWithANewLongTermKeyReplacesItsLink() throws Exception {
    try (Harness h = new Harness()) {
      Node a = h.node("a");
      Node b = h.node("b");
      InetSocketAddress bAddr = b.tunnel.boundAddress();
      a.send(b.endpoint(), packet(10, 0));
      assertNotNull(b.received.next());
      b.close();
      NodeKeys fresh = NodeKeys.generate();
      Node b2 = h.node("b", fresh, bAddr, x -> {});
      // routes now carry b's new key: a opens a new link under it and the old one is gone
      a.send(b2.endpoint(), packet(10, 1));
      Delivery d = b2.received.next();
      assertNotNull(d);
      assertArrayEquals(packet(10, 1), d.bytes());
      assertTrue(a.tunnel.stats().link("b").peer().hasPublicKey(fresh.publicKey()));
      // and b, which never queried a route for a, reaches a back under the new keys
      b2.send(d.from(), packet(10, 2));
      assertArrayEquals(packet(10, 2), a.received.next().bytes());
    }
  }

  @Test
  void unansweredProbesMarkPeerDownAndAnswersMarkItUp() throws Exception {
    try (Harness h = new Harness()) {
      NodeKeys bKeys = NodeKeys.generate();
      Node a = h.node("a", x -> x.keepaliveInterval(Duration.ofMillis(100)).probesBeforeDown(2));
      Node b = h.node("b", bKeys, new InetSocketAddress("127.0.0.1", 0), x -> {});
      InetSocketAddress bAddr = b.tunnel.boundAddress();
      WorkerEndpoint be = b.endpoint();
      a.send(be, packet(10, 0));
      assertNotNull(b.received.next());
      Harness.await("rtt", Duration.ofSeconds(5), () -> a.view.rttNanos("b") != NodeView.UNKNOWN);
      assertTrue(a.view.isPeerUp("b"));
      b.close();
      Harness.await("peer marked down", Duration.ofSeconds(5), () -> !a.view.isPeerUp("b"));
      assertFalse(a.tunnel.stats().link("b").up());
      h.node("b", bKeys, bAddr, x -> {});
      Harness.await("peer up again", Duration.ofSeconds(8), () -> a.view.isPeerUp("b"));
    }
  }

  @Test
  void nodesSharingOnePublicIpBehindNatEachHaveTheirPort() throws Exception {
    try (Harness h = new Harness()) {
      Node a = h.node("a");
      // b1 and b2 sit behind one NAT with public IP 127.0.0.2; the NAT forwards a port to each
      Node b1 = h.node("b1");
      Node b2 = h.node("b2");
      try (Relay nat1 = new Relay(new InetSocketAddress("127.0.0.2", 0), b1.tunnel.boundAddress());
          Relay nat2 = new Relay(new InetSocketAddress("127.0.0.2", 0), b2.tunnel.boundAddress())) {
        WorkerEndpoint pub1 = WorkerEndpoint.of("b1", nat1.address(), b1.keys.publicKey());
        WorkerEndpoint pub2 = WorkerEndpoint.of("b2", nat2.address(), b2.keys.publicKey());
        assertEquals(pub1.address().getAddress(), pub2.address().getAddress());
        a.send(pub1, packet(300, 1));
        a.send(pub2, packet(300, 2));
        Delivery d1 = b1.received.next();
        Delivery d2 = b2.received.next();
        assertArrayEquals(packet(300, 1), d1.bytes());
        assertArrayEquals(packet(300, 2), d2.bytes());
        // each replies to the address it observed (the NAT's), and a tells them apart
        b1.send(d1.from(), packet(50, 11));
        b2.send(d2.from(), packet(50, 22));
        Delivery r1 = a.received.next();
        Delivery r2 = a.received.next();
        java.util.Map<String, Delivery> byNode = new java.util.HashMap<>();
        byNode.put(r1.from().nodeId(), r1);
        byNode.put(r2.from().nodeId(), r2);
        assertArrayEquals(packet(50, 11), byNode.get("b1").bytes());
        assertArrayEquals(packet(50, 22), byNode.get("b2").bytes());
        assertEquals(nat1.address(), byNode.get("b1").from().address());
        assertEquals(nat2.address(), byNode.get("b2").from().address());
      }
      // the advertised address is what the node hands out
      Node c = h.node("c", x -> x.advertisedAddress(new InetSocketAddress("127.0.0.2", 40000)));
      assertEquals(new InetSocketAddress("127.0.0.2", 40000), c.endpoint().address());
    }
  }

  @Test
  void plaintextModeIsExplicitAndDoesNotMixWithSealed() throws Exception {
    try (Harness h = new Harness()) {
      Node a = h.node("a", x -> x.plaintext(true));
      Node b = h.node("b", x -> x.plaintext(true));
      assertEquals(20 + 8 + 16, a.tunnel.overheadBytes(false));
      a.send(b.endpoint(), packet(1000, 5));
      Delivery d = b.received.next();
      assertArrayEquals(packet(1000, 5), d.bytes());
      b.send(d.from(), packet(10, 6));
      assertArrayEquals(packet(10, 6), a.received.next().bytes());
      Node sealed = h.node("s");
      a.send(WorkerEndpoint.of("s", sealed.tunnel.boundAddress(), new byte[0]), packet(10, 7));
      Harness.await("plaintext dropped by sealed node", Duration.ofSeconds(5),
          () -> sealed.tunnel.stats().drops(DropReason.MODE_MISMATCH) > 0);
      assertTrue(sealed.tunnel.stats().links().isEmpty());
      assertNull(sealed.received.data.poll(200, TimeUnit.MILLISECONDS));
    }
  }

  @Test
  void builderRequiresIdentityUnlessPlaintextAndChecksTheCertificate() {
    NodeKeys k = NodeKeys.generate();
    InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
    assertThrows(IllegalStateException.class, () -> UdpTunnel.builder().nodeId("x").bind(any).build());
    RootAuthority other = RootAuthority.generate();
    assertThrows(IllegalArgumentException.class, () -> UdpTunnel.builder().nodeId("x").bind(any)
        .identity(k, other.certify("x", k.publicKey(), Instant.now().plusSeconds(60))).rootTrust(Harness.ROOT.trust()).build());
    assertThrows(IllegalArgumentException.class, () -> UdpTunnel.builder().nodeId("x").bind(any)
        .identity(k, Harness.ROOT.certify("y", k.publicKey(), Instant.now().plusSeconds(60))).rootTrust(Harness.ROOT.trust()).build());
    Tunnel t = UdpTunnel.builder().nodeId("x").bind(any).plaintext(true).build();
    t.close();
    NodeKeys copy = NodeKeys.of(k.privateKeyBytes(), k.publicKey());
    assertArrayEquals(k.publicKey(), copy.publicKey());
    assertThrows(IllegalArgumentException.class, () -> NodeKeys.of(k.privateKeyBytes(), NodeKeys.generate().publicKey()));
  }
}
