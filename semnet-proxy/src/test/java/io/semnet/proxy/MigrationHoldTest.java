package io.semnet.proxy;

import static io.semnet.proxy.Harness.N2;
import static io.semnet.proxy.Harness.N3;
import static io.semnet.proxy.Harness.ip;
import static io.semnet.proxy.Pkt.assertAddresses;
import static io.semnet.proxy.Pkt.assertChecksums;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The source node's side of a make-before-break migration: local server #1 (namespace IP 10.1.0.3
 * on n1) is frozen, moves to n3, and the packets meant for it are held, replayed in order,
 * forwarded late, and its replies relayed; never delivered to n1's bridge.
 */
class MigrationHoldTest {
  private Harness h;

  @AfterEach
  void tearDown() {
    if (h != null) {
      h.close();
    }
  }

  private static byte[] req(int seq, int payload) {
    return Pkt.v4("172.30.8.8", "10.1.0.3", 17, Pkt.udp(5555, 7000 + seq, payload));
  }

  private InstanceRecord movedTo(Locator at) {
    InstanceRecord moved = h.server1.withLocator(at);
    h.setServerRecord(h.serverRecord.withInstance(moved, at.version()));
    return moved;
  }

  private void freeze(boolean buffering) {
    h.translator.freeze(h.server1, buffering, null);
    h.locals.detach(h.server1.key());
  }

  /** Server #1 restored here from n3, as {@code WorkerNode.restore} does (gate opened, local record attached). */
  private void restoredHereFromN3() {
    InstanceRecord back = h.server1.withLocator(
        Locator.of(ip("10.1.0.3"), ip("fd00:1::3"), Harness.N1, 0).movedFrom(N3, System.currentTimeMillis()));
    h.translator.expectReplay(back, "n3");
    h.locals.attach(back);
  }

  private static void await(BooleanSupplier c) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out");
      }
      Thread.sleep(2);
    }
  }

  /** The replay-end marker: to the new place, behind the replayed packets, from the instance's InstanceIP. */
  private void assertReplayEnd(Map.Entry<WorkerEndpoint, byte[]> e) {
    assertEquals(N3, e.getKey());
    assertEquals(253, e.getValue()[9] & 0xff, "protocol 253 (RFC 3692)");
    assertAddresses(e.getValue(), "172.30.2.2", "10.1.0.3");
    long sum = 0;
    for (int i = 0; i < 20; i += 2) {
      sum += ((e.getValue()[i] & 0xff) << 8) | (e.getValue()[i + 1] & 0xff);
    }
    while (sum >>> 16 != 0) {
      sum = (sum & 0xffff) + (sum >>> 16);
    }
    assertEquals(0xffff, sum, "IPv4 header checksum");
    assertEquals(1, h.count(Counter.MIGRATION_REPLAY_END_SENT));
  }

  @Test
  void heldPacketsAreReplayedInOrderThenLateOnesForwardedAndNothingReachesTheBridge() throws Exception {
    h = new Harness();
    h.fromPeer(N2, req(0, 8));
    h.io.take();
    freeze(true);
    List<byte[]> held = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      byte[] p = req(i, 10 * i);
      held.add(p);
      h.fromPeer(N2, p);
    }
    // a local sender's new flow to the frozen instance is held too, not tunnelled to ourselves
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.2.2", 17, Pkt.udp(4444, 9, 4)));
    assertEquals(0, h.io.written.size(), "nothing reaches the bridge while frozen");
    assertEquals(0, h.tunnel.sent.size());
    assertEquals(6, h.count(Counter.MIGRATION_BUFFERED));

    movedTo(Locator.of(ip("10.1.0.3"), ip("fd00:1::3"), N3, 5));
    await(() -> h.tunnel.sent.size() == 7);
    assertEquals(6, h.count(Counter.MIGRATION_REPLAYED));
    for (int i = 0; i < 5; i++) {
      Map.Entry<WorkerEndpoint, byte[]> e = h.tunnel.take();
      assertEquals(N3, e.getKey());
      assertArrayEquals(held.get(i), e.getValue(), "replayed unchanged and in order");
    }
    Map.Entry<WorkerEndpoint, byte[]> local = h.tunnel.take();
    assertEquals(N3, local.getKey());
    assertAddresses(local.getValue(), "172.30.1.1", "10.1.0.3");
    assertReplayEnd(h.tunnel.take());

    h.fromPeer(N2, req(9, 4));
    Map.Entry<WorkerEndpoint, byte[]> late = h.tunnel.take();
    assertEquals(N3, late.getKey(), "a late packet follows the instance");
    assertEquals(1, h.count(Counter.MIGRATION_FORWARDED_LATE));
    assertEquals(0, h.io.written.size());

    // the new node answers through us (it learned the flow from our replay): relayed to the client's node
    h.fromPeer(N3, Pkt.v4("172.30.2.2", "172.30.8.8", 17, Pkt.udp(7000, 5555, 4)));
    Map.Entry<WorkerEndpoint, byte[]> relayed = h.tunnel.take();
    assertEquals(N2, relayed.getKey());
    assertEquals(1, h.count(Counter.MIGRATION_RELAYED));

    MigrationHoldStats s = h.translator.holdStats(h.server1.key());
    assertEquals("forwarding", s.phase());
    assertEquals(6, s.buffered());
    assertEquals(6, s.replayed());
    assertEquals(1, s.forwardedLate());
    assertEquals(1, s.relayed());
    assertEquals(0, s.lost());
    assertTrue(s.releasedAtNanos() >= s.frozenAtNanos());
  }

  @Test
  void aFlowFirstSeenWhileFrozenHasItsRepliesRelayedToo() throws Exception {
    h = new Harness();
    freeze(true);
    byte[] syn = Pkt.v4("172.30.8.8", "10.1.0.3", 6, Pkt.tcp(6000, 8080, SemnetTranslatorTest.SYN, 1400, 0));
    h.fromPeer(N2, syn);
    movedTo(Locator.of(ip("10.1.0.3"), ip("fd00:1::3"), N3, 5));
    await(() -> h.tunnel.sent.size() == 2);
    assertEquals(N3, h.tunnel.take().getKey());
    assertReplayEnd(h.tunnel.take());
    h.fromPeer(N3, Pkt.v4("172.30.2.2", "172.30.8.8", 6,
        Pkt.tcp(8080, 6000, SemnetTranslatorTest.SYN | SemnetTranslatorTest.ACK, 1400, 0)));
    assertEquals(N2, h.tunnel.take().getKey(), "the SYN-ACK goes to the client's node, not into route-not-found");
    assertEquals(0, h.count(Counter.ROUTE_NOT_FOUND_SENT));
  }

  @Test
  void aFullHoldCountsOverflowAndBufferingOffCountsDrops() throws Exception {
    h = new Harness(SemnetTranslator.builder().tunnelOverhead(60).migrationBuffer(2, 4096));
    freeze(true);
    for (int i = 0; i < 4; i++) {
      h.fromPeer(N2, req(i, 8));
    }
    assertEquals(2, h.count(Counter.MIGRATION_BUFFERED));
    assertEquals(2, h.count(Counter.DROP_MIGRATION_OVERFLOW));
    h.close();

    h = new Harness();
    freeze(false);
    for (int i = 0; i < 3; i++) {
      h.fromPeer(N2, req(i, 8));
    }
    assertEquals(0, h.count(Counter.MIGRATION_BUFFERED));
    assertEquals(3, h.count(Counter.DROP_MIGRATION_FROZEN));
    assertEquals(3, h.translator.holdStats(h.server1.key()).lost());
    movedTo(Locator.of(ip("10.1.0.3"), ip("fd00:1::3"), N3, 5));
    await(() -> h.count(Counter.MIGRATION_REPLAY_END_SENT) == 1);
    assertReplayEnd(h.tunnel.take());
    h.fromPeer(N2, req(7, 8));
    assertEquals(N3, h.tunnel.take().getKey(), "late packets are forwarded with buffering off too");
  }

  @Test
  void aColdRestoreRewritesTheHeldPacketsToTheNewNamespaceIp() throws Exception {
    h = new Harness();
    freeze(true);
    h.fromPeer(N2, Pkt.v4("172.30.8.8", "10.1.0.3", 6, Pkt.tcp(5555, 8080, SemnetTranslatorTest.SYN, 1400, 0)));
    movedTo(Locator.of(ip("10.3.0.7"), ip("fd00:3::7"), N3, 5));
    await(() -> h.tunnel.sent.size() == 2);
    Map.Entry<WorkerEndpoint, byte[]> e = h.tunnel.take();
    assertEquals(N3, e.getKey());
    assertAddresses(e.getValue(), "172.30.8.8", "10.3.0.7");
    assertChecksums(e.getValue());
    assertReplayEnd(h.tunnel.take());
  }

  @Test
  void anInstanceAttachedHereAgainGetsItsHeldPacketsLocally() throws Exception {
    h = new Harness();
    freeze(true);
    h.fromPeer(N2, req(1, 8));
    h.locals.attach(h.server1);
    await(() -> h.io.written.size() == 1);
    assertArrayEquals(req(1, 8), h.io.take());
    h.fromPeer(N2, req(2, 8));
    assertArrayEquals(req(2, 8), h.io.take(), "no hold any more");
  }

  @Test
  void anInstanceThatComesBackAfterItsReleaseIsServedHereAgain() throws Exception {
    h = new Harness();
    h.fromPeer(N2, req(1, 8));
    h.io.take();
    freeze(true);
    movedTo(Locator.of(ip("10.1.0.3"), ip("fd00:1::3"), N3, 5));
    await(() -> h.count(Counter.MIGRATION_REPLAY_END_SENT) == 1);
    h.tunnel.sent.clear();
    // it comes back (restored here again, from n3)
    InstanceRecord back = h.server1.withLocator(Locator.of(ip("10.1.0.3"), ip("fd00:1::3"), Harness.N1, 0));
    h.locals.attach(back);
    await(() -> h.translator.holdStats(h.server1.key()) == null);
    h.fromPeer(N2, req(1, 8));
    assertEquals(0, h.count(Counter.MIGRATION_FORWARDED_LATE), "not forwarded to where it was");
    assertArrayEquals(req(1, 8), h.io.take());
  }

  /**
   * There and back (the defect migration.sh hit on w2 -> w1): the instance moved to n3 and is
   * restored here again from n3 while this node still knows its flow (way back n2) and its cache
   * still holds the root's record naming n3 (the push of the return move has not come yet). n3
   * replays what it held: delivered here in order, not dropped as a roam the source does not own.
   */
  @Test
  void anInstanceRestoredHereAgainTakesTheReplayOfWhereItWas() throws Exception {
    h = new Harness();
    h.fromPeer(N2, req(1, 8));
    h.io.take();
    freeze(true);
    movedTo(Locator.of(ip("10.1.0.3"), ip("fd00:1::3"), N3, 5).movedFrom(Harness.N1, System.currentTimeMillis()));
    await(() -> h.count(Counter.MIGRATION_REPLAY_END_SENT) == 1);
    h.tunnel.sent.clear();
    // restored here from n3, as WorkerNode.restore does: the local locator names where it came from
    InstanceRecord back = h.server1.withLocator(
        Locator.of(ip("10.1.0.3"), ip("fd00:1::3"), Harness.N1, 0).movedFrom(N3, System.currentTimeMillis()));
    h.translator.expectReplay(back, "n3");
    h.locals.attach(back);
    await(() -> h.translator.holdStats(h.server1.key()) == null);
    h.fromPeer(N2, req(1, 12)); // the sender already switched: waits for n3's replay end
    h.fromPeer(N3, req(1, 9)); // n3's replay
    h.fromPeer(N3, req(1, 10));
    assertArrayEquals(req(1, 9), h.io.take());
    assertArrayEquals(req(1, 10), h.io.take());
    // published: the root's record (previous n3) is attached; the push reaches the cache later
    InstanceRecord placed = h.server1.withLocator(
        Locator.of(ip("10.1.0.3"), ip("fd00:1::3"), Harness.N1, 6).movedFrom(N3, System.currentTimeMillis()));
    h.locals.attach(placed);
    h.fromPeer(N3, req(1, 11));
    assertArrayEquals(req(1, 11), h.io.take());
    h.fromPeer(N3, Pkt.v4("172.30.2.2", "10.1.0.3", 253, new byte[] {0x53, 0x4e, 0x52, 0x45, 0, 0, 0, 1}));
    assertArrayEquals(req(1, 12), h.io.take(), "the direct packet follows the replay end");
    assertEquals(0, h.count(Counter.DROP_ROAM_NOT_OWNED));
    assertEquals(0, h.count(Counter.DROP_SOURCE_NOT_OWNED));
    assertEquals(0, h.translator.drops(), "no drops");
  }

  /** The destination's in-band "restored here" signal for server #1 (IPv4: from its InstanceIP to {@code dst}). */
  private static byte[] restored(String dst) {
    return Pkt.v4("172.30.2.2", dst, 253, new byte[] {0x53, 0x4e, 0x55, 0x50, 0, 0, 0, 1});
  }

  /**
   * The destination the orchestrator named at the freeze says in-band that the instance runs there
   * with its namespace IP: the hold releases at once, without the root's push; no other node's
   * signal, and no signal for another address, counts. The push, when it comes, replays nothing twice.
   */
  @Test
  void theNamedDestinationsRestoredSignalReleasesWithoutWaitingForThePush() throws Exception {
    h = new Harness();
    h.fromPeer(N2, req(0, 8));
    h.io.take();
    h.translator.freeze(h.server1, true, N3);
    h.locals.detach(h.server1.key());
    h.fromPeer(N2, req(1, 10));
    h.fromPeer(N2, restored("10.1.0.3")); // not the named destination
    h.fromPeer(N3, restored("10.1.0.9")); // not the address it kept
    assertEquals(2, h.count(Counter.DROP_UNSUPPORTED_PROTOCOL));
    assertEquals("frozen", h.translator.holdStats(h.server1.key()).phase());
    h.fromPeer(N3, restored("10.1.0.3"));
    await(() -> h.count(Counter.MIGRATION_REPLAY_END_SENT) == 1);
    assertEquals(1, h.count(Counter.MIGRATION_RESTORED_RECEIVED));
    Map.Entry<WorkerEndpoint, byte[]> replayed = h.tunnel.take();
    assertEquals(N3, replayed.getKey());
    assertArrayEquals(req(1, 10), replayed.getValue());
    assertReplayEnd(h.tunnel.take());
    // the root's record follows: late packets still go to n3, nothing is replayed again
    movedTo(Locator.of(ip("10.1.0.3"), ip("fd00:1::3"), N3, 5).movedFrom(Harness.N1, System.currentTimeMillis()));
    h.fromPeer(N2, req(2, 4));
    assertEquals(N3, h.tunnel.take().getKey());
    assertEquals(1, h.count(Counter.MIGRATION_REPLAYED));
    assertEquals(1, h.count(Counter.MIGRATION_FORWARDED_LATE));
    assertEquals(0, h.io.written.size(), "nothing reached the bridge");
  }

  /** The destination's side: once restored here from n3, n3 is told in-band through the tunnel. */
  @Test
  void aRestoreIsAnnouncedToThePreviousPlace() throws Exception {
    h = new Harness();
    InstanceRecord back = h.server1.withLocator(
        Locator.of(ip("10.1.0.3"), ip("fd00:1::3"), Harness.N1, 0).movedFrom(N3, System.currentTimeMillis()));
    h.translator.announceRestore(back, N3);
    await(() -> h.tunnel.sent.size() == 1);
    Map.Entry<WorkerEndpoint, byte[]> e = h.tunnel.take();
    assertEquals(N3, e.getKey());
    byte[] p = e.getValue();
    assertEquals(253, p[9] & 0xff);
    assertAddresses(p, "172.30.2.2", "10.1.0.3");
    assertArrayEquals(java.util.Arrays.copyOfRange(restored("10.1.0.3"), 20, 28), java.util.Arrays.copyOfRange(p, 20, 28), "SNUP v1");
    assertEquals(1, h.count(Counter.MIGRATION_RESTORED_SENT));
  }

  /**
   * A first contact: a flow this node never saw comes forwarded by the previous place of an instance
   * restored here. Its sender's node (n2) will switch to this node when it applies the move, so the
   * link to it is set up now, not when it switches (a sender kept its flow on the old path while its
   * handshake ran, switched after the replay end and overtook what the old path still forwarded).
   */
  @Test
  void aFlowThePreviousPlaceForwardsSetsTheLinkToItsSendersNodeUp() throws Exception {
    h = new Harness();
    restoredHereFromN3();
    h.tunnel.notReady.add(N2);
    h.fromPeer(N3, req(1, 9)); // from 172.30.8.8, whose signed record places it on n2
    assertArrayEquals(req(1, 9), h.io.take());
    assertTrue(h.tunnel.asked.contains(N2), "the link to the sender's node was asked for");
    assertEquals(0, h.translator.drops(), "no drops");
  }

  @Test
  void aLearnedFlowAnswersThePeerItsPacketsNowComeFrom() throws Exception {
    h = new Harness();
    h.fromPeer(N2, Pkt.v4("172.30.8.8", "10.1.0.3", 17, Pkt.udp(5555, 53, 4)));
    h.io.take();
    // the client instance moved to n3: a newer signed locator names n3, so the flow may follow it
    InstanceRecord client = h.remoteRecord.instance(1);
    h.setRemoteRecord(h.remoteRecord.withInstance(client.withLocator(Locator.of(ip("10.3.0.8"), ip("fd00:3::8"), N3, 2)), 2));
    h.fromPeer(N3, Pkt.v4("172.30.8.8", "10.1.0.3", 17, Pkt.udp(5555, 53, 4)));
    h.io.take();
    h.fromTun(Pkt.v4("10.1.0.3", "172.30.8.8", 17, Pkt.udp(53, 5555, 4)));
    assertEquals(N3, h.tunnel.take().getKey());
    assertEquals(1, h.count(Counter.FLOWS_ROAMED));
  }
}
