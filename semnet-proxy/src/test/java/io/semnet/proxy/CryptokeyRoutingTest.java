package io.semnet.proxy;

import static io.semnet.proxy.Harness.N2;
import static io.semnet.proxy.Harness.N3;
import static io.semnet.proxy.Harness.ip;
import static io.semnet.proxy.Pkt.assertAddresses;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Cryptokey routing on the translator: which inner sources a peer may use (what the root's signed
 * records place on it), which peer a flow's replies and ICMP errors may come from (its next hop),
 * when a flow may move to another peer (a newer signed locator names it), and what a migrated
 * instance's previous place may still do (forward and relay, during the linger only). Every drop is
 * counted under its own reason and learns no flow.
 *
 * <p>Harness addresses: local server #1 ns 10.1.0.3 (InstanceIP 172.30.2.2); local client A ns
 * 10.1.0.2 (172.30.1.1); remote server #0 on n2 (172.30.2.1, ns 10.2.0.2); remote clients
 * 172.30.9.9 on n3 and 172.30.8.8 on n2; 172.30.3.1 on n2 belongs to another app namespace.
 */
class CryptokeyRoutingTest {
  private Harness h;

  @AfterEach
  void tearDown() {
    if (h != null) {
      h.close();
    }
  }

  private static byte[] toServer(String src, int sport) {
    return Pkt.v4(src, "10.1.0.3", 17, Pkt.udp(sport, 53, 8));
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

  @Test
  void aPeerMayNotUseASourceItsRecordsDoNotPlaceOnIt() throws Exception {
    h = new Harness();
    // 172.30.9.9 is on n3 by the signed records: n2 may not speak for it.
    h.fromPeer(N2, toServer("172.30.9.9", 4000));
    assertEquals(0, h.io.written.size(), "nothing delivered");
    assertEquals(1, h.count(Counter.DROP_SOURCE_NOT_OWNED));
    assertEquals(0, h.count(Counter.FLOWS_LEARNED));
    assertEquals(0, h.translator.flowCount(), "no flow learned");
    // a local InstanceIP of this node is not n2's either
    h.fromPeer(N2, toServer("172.30.1.1", 4001));
    assertEquals(2, h.count(Counter.DROP_SOURCE_NOT_OWNED));
    // an address no record knows: parked while the resolver is asked, then dropped
    h.fromPeer(N2, toServer("172.30.7.7", 4002));
    await(() -> h.count(Counter.DROP_SOURCE_NOT_OWNED) == 3);
    assertEquals(0, h.io.written.size());
    assertEquals(0, h.translator.flowCount());
    // the owner itself is delivered and learned
    h.fromPeer(N3, toServer("172.30.9.9", 4000));
    assertArrayEquals(toServer("172.30.9.9", 4000), h.io.take());
    assertEquals(1, h.count(Counter.FLOWS_LEARNED));
  }

  @Test
  void anUncachedSourceIsParkedWhileItsRecordIsFetchedThenDelivered() throws Exception {
    h = new Harness();
    h.resolver.uncached.put(ip("172.30.8.8"), true);
    h.resolver.hold = true;
    h.fromPeer(N2, toServer("172.30.8.8", 5000));
    assertEquals(0, h.io.written.size(), "parked, not delivered yet");
    assertEquals(1, h.count(Counter.PARKED));
    assertEquals(0, h.translator.flowCount());
    await(() -> h.resolver.held.containsKey(ip("172.30.8.8")));
    h.resolver.release(ip("172.30.8.8"));
    await(() -> h.io.written.size() == 1);
    assertArrayEquals(toServer("172.30.8.8", 5000), h.io.take());
    assertEquals(1, h.count(Counter.FLOWS_LEARNED));
    assertEquals(0, h.count(Counter.DROP_SOURCE_NOT_OWNED));
  }

  @Test
  void isolationIsCheckedOnIngress() throws Exception {
    h = new Harness();
    // 172.30.3.1 is n2's, but of app namespace "other", which may not reach app namespace "ns"
    h.fromPeer(N2, toServer("172.30.3.1", 6000));
    assertEquals(0, h.io.written.size());
    assertEquals(1, h.count(Counter.DROP_NOT_PERMITTED_INGRESS));
    assertEquals(0, h.translator.flowCount());
  }

  @Test
  void aSecondPeerCannotHijackALearnedFlow() throws Exception {
    h = new Harness();
    h.fromPeer(N2, toServer("172.30.8.8", 7000));
    h.io.take();
    // n3 sends a packet with the same 5-tuple: no roaming, dropped
    h.fromPeer(N3, toServer("172.30.8.8", 7000));
    assertEquals(0, h.io.written.size());
    assertEquals(1, h.count(Counter.DROP_ROAM_NOT_OWNED));
    assertEquals(0, h.count(Counter.FLOWS_ROAMED));
    h.fromTun(Pkt.v4("10.1.0.3", "172.30.8.8", 17, Pkt.udp(53, 7000, 8)));
    assertEquals(N2, h.tunnel.take().getKey(), "replies still go to the flow's real peer");
  }

  @Test
  void aNewerSignedLocatorMovesTheFlow() throws Exception {
    h = new Harness();
    h.fromPeer(N2, toServer("172.30.8.8", 7100));
    h.io.take();
    InstanceRecord c = h.remoteRecord.instance(1);
    h.setRemoteRecord(h.remoteRecord.withInstance(c.withLocator(Locator.of(ip("10.3.0.8"), null, N3, 2)), 2));
    h.fromPeer(N3, toServer("172.30.8.8", 7100));
    h.io.take();
    assertEquals(1, h.count(Counter.FLOWS_ROAMED));
    h.fromTun(Pkt.v4("10.1.0.3", "172.30.8.8", 17, Pkt.udp(53, 7100, 8)));
    assertEquals(N3, h.tunnel.take().getKey());
    // the old node no longer speaks for the source (no previous place in the new locator)
    h.fromPeer(N2, toServer("172.30.8.8", 7100));
    assertEquals(0, h.io.written.size());
    assertEquals(1, h.count(Counter.DROP_ROAM_NOT_OWNED));
  }

  @Test
  void repliesAndIcmpErrorsOnlyFromTheNextHop() throws Exception {
    h = new Harness();
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(8000, 53, 8)));
    Map.Entry<io.semnet.core.address.WorkerEndpoint, byte[]> out = h.tunnel.take();
    assertEquals(N2, out.getKey());
    byte[] reply = Pkt.v4("172.30.2.1", "172.30.1.1", 17, Pkt.udp(53, 8000, 8));
    h.fromPeer(N3, reply.clone());
    assertEquals(0, h.io.written.size(), "a reply injected by n3 is not delivered");
    assertEquals(1, h.count(Counter.DROP_REPLY_NOT_NEXT_HOP));
    // quoted as the server's node translated it (client InstanceIP -> server InstanceIP)
    byte[] quoted = Arrays.copyOf(Pkt.v4("172.30.1.1", "172.30.2.1", 17, Pkt.udp(8000, 53, 8)), 28);
    byte[] unreachable = Pkt.v4("172.30.2.1", "172.30.1.1", 1, Pkt.icmpError(3, 3, 0, quoted));
    h.fromPeer(N3, unreachable.clone());
    assertEquals(0, h.io.written.size());
    assertEquals(1, h.count(Counter.DROP_ICMP_NOT_NEXT_HOP));
    // an error from the next hop whose outer addresses are not the flow's is refused too
    h.fromPeer(N2, Pkt.v4("172.30.8.8", "172.30.1.1", 1, Pkt.icmpError(3, 3, 0, quoted)));
    assertEquals(1, h.count(Counter.DROP_ICMP_ENDPOINT_MISMATCH));
    assertEquals(0, h.io.written.size());
    // the next hop's reply and error pass
    h.fromPeer(N2, reply);
    assertAddresses(h.io.take(), "172.30.0.10", "10.1.0.2");
    h.fromPeer(N2, unreachable);
    assertAddresses(h.io.take(), "172.30.0.10", "10.1.0.2");
    assertEquals(1, h.count(Counter.ICMP_ERRORS_TRANSLATED));
  }

  @Test
  void aLocalInstanceCannotSendErrorsAboutAnotherInstancesFlow() throws Exception {
    h = new Harness();
    byte[] req = toServer("172.30.9.9", 4100);
    h.fromPeer(N3, req);
    byte[] delivered = h.io.take();
    // client A (10.1.0.2) quotes server #1's flow but is not its endpoint
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.9.9", 1, Pkt.icmpError(3, 3, 0, Arrays.copyOf(delivered, 28))));
    assertEquals(1, h.count(Counter.DROP_ICMP_ENDPOINT_MISMATCH));
    assertEquals(0, h.tunnel.sent.size());
    h.fromTun(Pkt.v4("10.1.0.3", "172.30.9.9", 1, Pkt.icmpError(3, 3, 0, Arrays.copyOf(delivered, 28))));
    assertEquals(N3, h.tunnel.take().getKey(), "the flow's own endpoint may");
  }

  @Test
  void aMigratedInstancesPreviousPlaceMayRelayOnlyDuringTheLinger() throws Exception {
    h = new Harness(SemnetTranslator.builder().tunnelOverhead(60).migrationLinger(Duration.ofSeconds(30)));
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(8100, 53, 8)));
    assertEquals(N2, h.tunnel.take().getKey());
    // server #0 moved from n2 to n3 just now: the signed locator names n2 as its previous place
    InstanceRecord moved = h.server0.withLocator(
        Locator.of(ip("10.3.0.5"), ip("fd00:3::5"), N3, 2).movedFrom(N2, System.currentTimeMillis()));
    h.setServerRecord(h.serverRecord.withInstance(moved, 2));
    await(() -> h.count(Counter.FLOWS_REPOINTED) == 1);
    // n2 relays the moved instance's reply for the flow that still went through it: accepted
    h.fromPeer(N2, Pkt.v4("172.30.2.1", "172.30.1.1", 17, Pkt.udp(53, 8100, 8)));
    assertAddresses(h.io.take(), "172.30.0.10", "10.1.0.2");
    assertEquals(0, h.count(Counter.DROP_REPLY_NOT_NEXT_HOP));

    // the same move, recorded longer ago than the linger: n2 may no longer speak for it
    InstanceRecord old = h.server0.withLocator(
        Locator.of(ip("10.3.0.5"), ip("fd00:3::5"), N3, 3).movedFrom(N2, System.currentTimeMillis() - 120_000));
    h.setServerRecord(h.serverRecord.withInstance(old, 3));
    h.fromPeer(N2, Pkt.v4("172.30.2.1", "172.30.1.1", 17, Pkt.udp(53, 8100, 8)));
    assertEquals(0, h.io.written.size());
    assertEquals(1, h.count(Counter.DROP_REPLY_NOT_NEXT_HOP));
  }

  @Test
  void aLocalInstancesPreviousPlaceMayForwardItsLatePacketsOnlyDuringTheLinger() throws Exception {
    h = new Harness(SemnetTranslator.builder().tunnelOverhead(60).migrationLinger(Duration.ofSeconds(30)));
    // server #1 arrived here from n2: n2 forwards a late packet of a client on n3
    InstanceRecord here = h.server1.withLocator(
        Locator.of(ip("10.1.0.3"), ip("fd00:1::3"), Harness.N1, 2).movedFrom(N2, System.currentTimeMillis()));
    h.setServerRecord(h.serverRecord.withInstance(here, 2));
    h.fromPeer(N2, toServer("172.30.9.9", 4200));
    assertArrayEquals(toServer("172.30.9.9", 4200), h.io.take());
    // replies go back through n2 (which relays them), until the client's own node sends directly
    h.fromTun(Pkt.v4("10.1.0.3", "172.30.9.9", 17, Pkt.udp(53, 4200, 8)));
    assertEquals(N2, h.tunnel.take().getKey());
    h.fromPeer(N3, toServer("172.30.9.9", 4200));
    h.io.take();
    assertEquals(1, h.count(Counter.FLOWS_ROAMED), "the source's own node takes the flow over");

    InstanceRecord stale = h.server1.withLocator(
        Locator.of(ip("10.1.0.3"), ip("fd00:1::3"), Harness.N1, 3).movedFrom(N2, System.currentTimeMillis() - 120_000));
    h.setServerRecord(h.serverRecord.withInstance(stale, 3));
    h.fromPeer(N2, toServer("172.30.9.9", 4201));
    assertEquals(0, h.io.written.size());
    assertEquals(1, h.count(Counter.DROP_SOURCE_NOT_OWNED));
  }

  @Test
  void onlyTheNewPlaceMayHaveItsRepliesRelayed() throws Exception {
    h = new Harness();
    h.fromPeer(N2, toServer("172.30.8.8", 7300));
    h.io.take();
    h.translator.freeze(h.server1, true, null);
    h.locals.detach(h.server1.key());
    InstanceRecord moved = h.server1.withLocator(Locator.of(ip("10.1.0.3"), ip("fd00:1::3"), N3, 5));
    h.setServerRecord(h.serverRecord.withInstance(moved, 5));
    await(() -> "forwarding".equals(h.translator.holdStats(h.server1.key()).phase())
        && h.count(Counter.MIGRATION_REPLAY_END_SENT) == 1);
    assertEquals(253, h.tunnel.take().getValue()[9] & 0xff, "the replay-end marker went to n3");
    // n2 (not where the instance went) sends "replies" of it: refused
    h.fromPeer(N2, Pkt.v4("172.30.2.2", "172.30.8.8", 17, Pkt.udp(53, 7300, 4)));
    assertEquals(1, h.count(Counter.DROP_RELAY_NOT_NEW_PLACE));
    assertEquals(0, h.count(Counter.MIGRATION_RELAYED));
    assertTrue(h.tunnel.sent.isEmpty());
    h.fromPeer(N3, Pkt.v4("172.30.2.2", "172.30.8.8", 17, Pkt.udp(53, 7300, 4)));
    assertEquals(N2, h.tunnel.take().getKey());
    assertEquals(1, h.count(Counter.MIGRATION_RELAYED));
  }
}
