package io.semnet.proxy;

import static io.semnet.proxy.Harness.N2;
import static io.semnet.proxy.Harness.N3;
import static io.semnet.proxy.Harness.await;
import static io.semnet.proxy.Harness.ip;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The destination's side of a move, in order: server #1 (10.1.0.3) was restored on n1 from n3
 * while remote client #1 on n2 streams to it. Packets the sender sends directly (it already applied
 * the new locator) wait until n3's replay-end marker came behind the packets n3 held and replays;
 * then they follow, so the instance sees the flow in the order it was sent. The wait is bounded.
 */
class ReplayOrderTest {
  private Harness h;

  @AfterEach
  void tearDown() {
    if (h != null) {
      h.close();
    }
  }

  /** Datagram {@code seq} of the client's one flow (the payload length tells them apart). */
  private static byte[] seq(int seq) {
    return Pkt.v4("172.30.8.8", "10.1.0.3", 17, Pkt.udp(5555, 7000, 10 + seq));
  }

  private static byte[] marker(String src) {
    byte[] payload = new byte[8];
    ByteBuffer.wrap(payload).putInt(0, 0x534e5245).putInt(4, 1);
    return Pkt.v4(src, "10.1.0.3", 253, payload);
  }

  /** server #1 restored here from n3 (the root's locator names n3 as its previous place). */
  private void restoredFromN3() {
    InstanceRecord moved = h.server1.withLocator(
        Locator.of(ip("10.1.0.3"), ip("fd00:1::3"), Harness.N1, 5).movedFrom(N3, System.currentTimeMillis()));
    h.setServerRecord(h.serverRecord.withInstance(moved, 5));
    h.translator.expectReplay(moved, "n3");
    h.locals.attach(moved);
  }

  private void assertDelivered(int... seqs) {
    List<byte[]> got = Harness.drain(h.io.written);
    assertEquals(seqs.length, got.size(), "packets delivered");
    for (int i = 0; i < seqs.length; i++) {
      assertArrayEquals(seq(seqs[i]), got.get(i), "packet " + i + " is datagram " + seqs[i]);
    }
  }

  @Test
  void directPacketsWaitForTheReplayEndThenFollowInOrder() throws Exception {
    h = new Harness();
    restoredFromN3();
    h.fromPeer(N2, seq(3)); // the sender switched: direct
    h.fromPeer(N2, seq(4));
    assertDelivered();
    assertEquals(2, h.count(Counter.MIGRATION_ORDER_HELD));
    h.fromPeer(N3, seq(1)); // replayed by the previous place: never held
    h.fromPeer(N3, seq(2));
    assertDelivered(1, 2);
    h.fromPeer(N3, marker("172.30.2.2"));
    assertDelivered(3, 4);
    assertEquals(1, h.count(Counter.MIGRATION_REPLAY_END_RECEIVED));
    h.fromPeer(N2, seq(5));
    assertDelivered(5);
    assertEquals(2, h.count(Counter.MIGRATION_ORDER_HELD), "the gate is gone after the marker");
    assertEquals(0, h.count(Counter.MIGRATION_ORDER_BOUND_HIT));
    assertEquals(0, h.translator.drops(), "no drops");
  }

  @Test
  void onceTheSenderSentDirectlyRepliesToReplayedPacketsGoStraightToIt() throws Exception {
    h = new Harness();
    restoredFromN3();
    h.fromPeer(N3, seq(1)); // the sender has not switched yet: replies go back through n3
    h.fromTun(Pkt.v4("10.1.0.3", "172.30.8.8", 17, Pkt.udp(7000, 5555, 4)));
    assertEquals(N3, h.tunnel.take().getKey());
    h.fromPeer(N2, seq(3)); // now it has (held)
    h.fromPeer(N3, seq(2));
    h.fromTun(Pkt.v4("10.1.0.3", "172.30.8.8", 17, Pkt.udp(7000, 5555, 4)));
    assertEquals(N2, h.tunnel.take().getKey(), "not relayed any more: one path back, in order");
    h.fromPeer(N3, marker("172.30.2.2"));
    assertDelivered(1, 2, 3);
    assertEquals(1, h.count(Counter.FLOWS_ROAMED));
  }

  @Test
  void onlyThePreviousPlaceEndsTheWaitAndTheMarkerIsNeverDelivered() throws Exception {
    h = new Harness();
    restoredFromN3();
    h.fromPeer(N2, seq(1));
    h.fromPeer(N2, marker("172.30.2.2")); // not from the previous place
    h.fromPeer(N3, marker("172.30.9.9")); // not the restored instance's marker
    assertDelivered();
    assertEquals(2, h.count(Counter.DROP_UNSUPPORTED_PROTOCOL));
    assertEquals(0, h.count(Counter.MIGRATION_REPLAY_END_RECEIVED));
    h.fromPeer(N3, marker("172.30.2.2"));
    assertDelivered(1);
    assertEquals(1, h.count(Counter.MIGRATION_REPLAY_END_RECEIVED));
  }

  @Test
  void withoutAMarkerTheWaitEndsAtItsBoundAndNothingIsLost() throws Exception {
    h = new Harness();
    restoredFromN3();
    long t0 = System.nanoTime();
    h.fromPeer(N2, seq(1));
    h.fromPeer(N2, seq(2));
    await(() -> h.io.written.size() == 2);
    System.out.printf("the wait ended after %.1f ms (bound 500 ms)%n", (System.nanoTime() - t0) / 1e6);
    assertDelivered(1, 2);
    assertEquals(1, h.count(Counter.MIGRATION_ORDER_BOUND_HIT));
    h.fromPeer(N2, seq(3));
    assertDelivered(3);
  }

  /**
   * A slow replay (a busy machine) keeps the direct packets waiting past the 500 ms bound as long
   * as the previous place's packets keep coming; the marker then ends the wait, in order.
   */
  @Test
  void aReplayThatKeepsComingExtendsTheWait() throws Exception {
    h = new Harness();
    restoredFromN3();
    long t0 = System.nanoTime();
    h.fromPeer(N2, seq(20)); // direct: waits
    long last = t0;
    long longestGap = 0;
    for (int i = 1; i <= 14; i++) { // about 700 ms of replay, a packet every 50 ms
      Thread.sleep(50);
      long t = System.nanoTime();
      longestGap = Math.max(longestGap, t - last);
      last = t;
      h.fromPeer(N3, seq(i));
    }
    long took = System.nanoTime() - t0;
    System.out.printf("replay of 14 packets took %.0f ms, longest gap %.0f ms%n", took / 1e6, longestGap / 1e6);
    org.junit.jupiter.api.Assumptions.assumeTrue(longestGap < 250_000_000L && took < 1_500_000_000L,
        "the machine stalled the replay itself; nothing to check");
    assertEquals(0, h.count(Counter.MIGRATION_ORDER_BOUND_HIT), "still waiting after " + took / 1_000_000 + " ms");
    h.fromPeer(N3, marker("172.30.2.2"));
    assertDelivered(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 20);
  }

  @Test
  void aFullGateDeliversWhatWaitedFirstThenThePacketThatDidNotFit() throws Exception {
    h = new Harness();
    restoredFromN3();
    byte[][] packets = new byte[2049][];
    for (int i = 0; i < packets.length; i++) {
      packets[i] = Pkt.v4("172.30.8.8", "10.1.0.3", 17, Pkt.udp(5555, 7000, 8 + i % 100));
    }
    for (byte[] p : packets) {
      h.fromPeer(N2, p);
    }
    // on a loaded machine the 500 ms bound may end the wait (on the control thread) before the FIFO
    // fills (CI at load 14-20: after 1,701 had waited); then the rest passes, in order all the same
    await(() -> h.io.written.size() == 2049);
    assertEquals(2049, h.io.written.size(), "nothing dropped");
    // 2,048 if the FIFO filled first; a packet that came while a timed-out gate drained queued too
    long held = h.count(Counter.MIGRATION_ORDER_HELD);
    assertTrue(held >= 1 && held <= 2049, "held " + held);
    assertEquals(1, h.count(Counter.MIGRATION_ORDER_BOUND_HIT));
    for (int i = 0; i < 2049; i++) {
      assertEquals(20 + 8 + 8 + i % 100, h.io.written.get(i).length, "in order");
    }
  }

  @Test
  void aPacketWhoseSourceBecameKnownWaitsBehindThoseParkedForIt() throws Exception {
    h = new Harness();
    restoredFromN3();
    h.resolver.hold = true;
    h.resolver.uncached.put(ip("172.30.8.8"), true);
    h.fromPeer(N3, seq(1)); // the sender is not verified yet: parked
    assertDelivered();
    h.resolver.uncached.remove(ip("172.30.8.8")); // its route is cached now, the answer not delivered yet
    h.fromPeer(N3, seq(2));
    assertDelivered();
    h.resolver.release(ip("172.30.8.8"));
    assertDelivered(1, 2);
    h.fromPeer(N3, seq(3));
    assertDelivered(3);
  }
}
