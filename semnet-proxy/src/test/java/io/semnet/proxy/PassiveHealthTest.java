package io.semnet.proxy;

import static io.semnet.proxy.Harness.N2;
import static io.semnet.proxy.Harness.ip;
import static io.semnet.proxy.Pkt.assertAddresses;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Passive health through the translator's real packet path: each failure signal the data path
 * sees (SYN without SYN-ACK, ICMP unreachable, route-not-found, UDP silence after replies) ejects
 * the chosen instance from new-flow selection; established flows keep their instance; one-way UDP
 * is never ejected. The periodic sweep is off (1 h): the test sweeps by hand after waiting at least
 * the bound, so nothing depends on how fast the machine is.
 *
 * <p>Harness: service "server" has #0 on peer n2 (10.2.0.2) and #1 local (10.1.0.3); the "first"
 * policy takes #0 unless it is unavailable.
 */
class PassiveHealthTest {
  static final int SYN = 0x02;
  static final int ACK = 0x10;
  static final long SYN_TIMEOUT_MS = 60;
  static final long UDP_SILENCE_MS = 200;

  Harness h;

  Harness harness() throws Exception {
    h = new Harness(SemnetTranslator.builder().tunnelOverhead(60).sweepInterval(Duration.ofHours(1))
        .passiveHealth(Duration.ofMillis(SYN_TIMEOUT_MS), Duration.ofMillis(UDP_SILENCE_MS))
        .ejection(1, Duration.ofMillis(300), Duration.ofSeconds(10), 50));
    return h;
  }

  @AfterEach
  void tearDown() {
    if (h != null) {
      h.close();
    }
  }

  static byte[] syn(int port) {
    return Pkt.v4("10.1.0.2", "172.30.0.10", 6, Pkt.tcp(port, 80, SYN, 1460, 0));
  }

  /** Sends a new flow's SYN and says where it went: "n2" (#0) or "local" (#1). */
  String connect(int port) {
    h.fromTun(syn(port));
    if (!h.tunnel.sent.isEmpty()) {
      assertAddresses(h.tunnel.take().getValue(), "172.30.1.1", "10.2.0.2");
      return "n2";
    }
    assertAddresses(h.io.take(), "172.30.1.1", "10.1.0.3");
    return "local";
  }

  static void sleep(long ms) throws InterruptedException {
    Thread.sleep(ms + 5);
  }

  @Test
  void aSynWithoutSynAckEjectsTheInstanceForNewFlowsOnlyAndItComesBack() throws Exception {
    harness();
    assertEquals("n2", connect(40000));
    sleep(SYN_TIMEOUT_MS);
    h.translator.sweep();
    assertEquals(1, h.count(Counter.HEALTH_FAILURES));
    assertEquals(1, h.count(Counter.INSTANCES_EJECTED));
    assertTrue(h.view.isEjected(h.server0.key()));
    assertFalse(h.view.isAvailable(h.server0), "policies see the ejection through NodeView");

    assertEquals("local", connect(40001), "new flows go to the other instance");
    // the established flow keeps its instance
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 6, Pkt.tcp(40000, 80, SYN, 1460, 0)));
    assertAddresses(h.tunnel.take().getValue(), "172.30.1.1", "10.2.0.2");

    sleep(300);
    h.translator.sweep();
    assertEquals(1, h.count(Counter.INSTANCES_RETURNED));
    assertFalse(h.view.isEjected(h.server0.key()));
    assertEquals("n2", connect(40002), "back in selection after the back-off");
  }

  @Test
  void anOverdueSynIsNoticedByTheNextNewFlowWithoutWaitingForTheSweep() throws Exception {
    harness();
    assertEquals("n2", connect(40000));
    sleep(SYN_TIMEOUT_MS);
    assertEquals("local", connect(40001), "the choice itself noticed the overdue SYN and chose again");
    assertEquals(1, h.count(Counter.INSTANCES_EJECTED));
  }

  @Test
  void aSynAckInTimeKeepsTheInstance() throws Exception {
    harness();
    for (int i = 0; i < 5; i++) {
      assertEquals("n2", connect(40000 + i));
      h.fromPeer(N2, Pkt.v4("172.30.2.1", "172.30.1.1", 6, Pkt.tcp(80, 40000 + i, SYN | ACK, 1360, 0)));
      h.io.take();
    }
    sleep(SYN_TIMEOUT_MS);
    h.translator.sweep();
    assertEquals(0, h.count(Counter.HEALTH_FAILURES));
    assertEquals("n2", connect(41000));
  }

  @Test
  void icmpPortUnreachableFromTheInstanceEjectsIt() throws Exception {
    harness();
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(5000, 53, 20)));
    h.tunnel.take();
    byte[] quoted = Pkt.v4("172.30.1.1", "172.30.2.1", 17, Pkt.udp(5000, 53, 20)); // as translated at n2
    h.fromPeer(N2, Pkt.v4("172.30.2.1", "172.30.1.1", 1, Pkt.icmpError(3, 3, 0, Arrays.copyOf(quoted, 28))));
    h.io.take(); // the client gets the translated error
    assertEquals(1, h.count(Counter.INSTANCES_EJECTED));
    assertEquals("local", connect(40000));
  }

  @Test
  void routeNotFoundFromTheNodeItsRecordNamesEjectsIt() throws Exception {
    harness();
    assertEquals("n2", connect(40000));
    h.fromPeer(N2, Pkt.v4("172.30.2.1", "172.30.1.1", 6, Pkt.tcp(80, 40000, SYN | ACK, 1360, 0)));
    h.io.take();
    h.translator.onRouteNotFound(N2, ip("10.2.0.2")); // the record still places #0 on n2
    Harness.await(() -> h.count(Counter.INSTANCES_EJECTED) == 1);
    assertEquals("local", connect(40001));
  }

  @Test
  void udpSilenceAfterRepliesEjectsButOneWayUdpNever() throws Exception {
    harness();
    // one-way: a stream to #0 that never gets a reply
    long end = System.nanoTime() + Duration.ofMillis(3 * UDP_SILENCE_MS).toNanos();
    while (System.nanoTime() < end) {
      h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(6000, 514, 50)));
      h.tunnel.take();
      Thread.sleep(20);
      h.translator.sweep();
    }
    assertEquals(0, h.count(Counter.HEALTH_FAILURES), "one-way UDP is never a failure");

    // request/response on another flow, then the server goes silent while the client keeps asking
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(6001, 53, 20)));
    h.tunnel.take();
    h.fromPeer(N2, Pkt.v4("172.30.2.1", "172.30.1.1", 17, Pkt.udp(53, 6001, 40)));
    h.io.take();
    end = System.nanoTime() + Duration.ofMillis(10 * UDP_SILENCE_MS).toNanos(); // ends at the ejection; generous for a loaded machine
    while (System.nanoTime() < end && h.count(Counter.INSTANCES_EJECTED) == 0) {
      h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(6001, 53, 20)));
      h.tunnel.take();
      Thread.sleep(20);
      h.translator.sweep();
    }
    assertEquals(1, h.count(Counter.INSTANCES_EJECTED), "silence on a flow that had replies ejects");
    assertEquals("local", connect(40000));
  }

  @Test
  void aDeadPeerTakesItsInstancesOutAtOnce() throws Exception {
    harness();
    h.view.setPeerUp("n2", false); // what the tunnel's keepalives do
    assertEquals("local", connect(40000));
    h.view.setPeerUp("n2", true);
    assertEquals("n2", connect(40001));
  }
}
