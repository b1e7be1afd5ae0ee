package io.semnet.proxy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.record.InstanceKey;
import io.semnet.core.service.ServiceId;
import io.semnet.proxy.Counter;
import org.junit.jupiter.api.Test;

/** The passive health rules on an explicit clock: back-off, cap, UDP silence, success. */
class HealthTest {
  static final ServiceId WEB = ServiceId.of("app", "ns", "web", "ns");
  static final ServiceId DB = ServiceId.of("app", "ns", "db", "ns");
  static final int TCP = 6;
  static final int UDP = 17;

  final LocalNodeView view = new LocalNodeView("n1", null);
  final ThreadScratch w = new ThreadScratch(Thread.currentThread());
  final Health health = new Health(new HealthConfig(1_000, 5_000, 1, 1_000, 30_000, 50));

  HealthTest() {
    health.start(new Wiring("n1", null, null, null, null, view, null, 1400));
  }

  long count(Counter c) {
    return w.counts[c.ordinal()];
  }

  Flow flow(int proto, InstanceKey key, Health.Cell cell) {
    Flow f = new Flow(true, proto, key, null, 0);
    f.health = cell;
    return f;
  }

  @Test
  void anUnansweredSynEjectsForABackOffThatDoublesUpToTheMaximumAndASuccessResetsIt() {
    InstanceKey k = InstanceKey.of(WEB, 0);
    Health.Cell c = health.cell(k, 4, 0);
    long t = 10_000;
    long[] expected = {1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000};
    for (long len : expected) {
      Health.synSent(c, t);
      health.sweep(w, t + 999);
      assertFalse(view.isEjected(k), "not before the SYN timeout");
      health.sweep(w, t + 1_000);
      assertTrue(view.isEjected(k), "a SYN without SYN-ACK for 1 s ejects");
      long ejectedAt = t + 1_000;
      health.sweep(w, ejectedAt + len - 1);
      assertTrue(view.isEjected(k), "still ejected just before " + len + " ms");
      health.sweep(w, ejectedAt + len);
      assertFalse(view.isEjected(k), "back after " + len + " ms");
      t = ejectedAt + len;
    }
    assertEquals(expected.length, count(Counter.INSTANCES_EJECTED));
    assertEquals(expected.length, count(Counter.INSTANCES_RETURNED));

    health.synAnswered(c); // a SYN-ACK: healthy again, the back-off starts over
    Health.synSent(c, t);
    health.sweep(w, t + 1_000);
    assertTrue(view.isEjected(k));
    health.sweep(w, t + 1_999);
    assertTrue(view.isEjected(k));
    health.sweep(w, t + 2_000);
    assertFalse(view.isEjected(k), "after a success the next ejection is the base again");
  }

  @Test
  void aSynAnsweredInTimeIsNoFailure() {
    InstanceKey k = InstanceKey.of(WEB, 0);
    Health.Cell c = health.cell(k, 4, 0);
    Health.synSent(c, 100);
    health.synAnswered(c);
    health.sweep(w, 100_000);
    assertEquals(0, count(Counter.HEALTH_FAILURES));
    assertFalse(view.isEjected(k));
  }

  @Test
  void anOverdueSynIsNoticedByTheNextNewFlowBeforeTheSweep() {
    InstanceKey k = InstanceKey.of(WEB, 1);
    Health.Cell c = health.cell(k, 2, 0);
    Health.synSent(c, 500);
    assertFalse(health.failedBeforeUse(w, k, 1_499));
    assertTrue(health.failedBeforeUse(w, k, 1_500), "the chooser is told to choose again");
    assertTrue(view.isEjected(k));
  }

  @Test
  void theCapHoldsPerServiceAndRoundsDown() {
    // web: 3 instances, 50 % -> at most 1 ejected; db: 1 instance -> never ejected
    Health.Cell[] web = new Health.Cell[3];
    for (int i = 0; i < 3; i++) {
      web[i] = health.cell(InstanceKey.of(WEB, i), 3, 0);
      Health.synSent(web[i], 0);
    }
    Health.Cell db = health.cell(InstanceKey.of(DB, 0), 1, 0);
    Health.synSent(db, 0);
    health.sweep(w, 1_000);
    int ejected = 0;
    for (int i = 0; i < 3; i++) {
      ejected += view.isEjected(InstanceKey.of(WEB, i)) ? 1 : 0;
    }
    assertEquals(1, ejected, "one of three web instances ejected, not more");
    assertFalse(view.isEjected(InstanceKey.of(DB, 0)), "the only instance of a service is never ejected");
    assertEquals(3, count(Counter.EJECTIONS_CAPPED));
    assertEquals(4, count(Counter.HEALTH_FAILURES));

    // with 4 instances known (the record grew), a second web instance may go
    for (int i = 0; i < 3; i++) {
      health.cell(InstanceKey.of(WEB, i), 4, 1_000);
      Health.synSent(web[i], 1_000);
    }
    health.sweep(w, 1_500);
    Health.synSent(web[1], 1_500);
    Health.synSent(web[2], 1_500);
    health.sweep(w, 2_000);
    ejected = 0;
    for (int i = 0; i < 3; i++) {
      ejected += view.isEjected(InstanceKey.of(WEB, i)) ? 1 : 0;
    }
    assertEquals(2, ejected, "two of four");
  }

  @Test
  void oneWayUdpIsNeverEjected() {
    InstanceKey k = InstanceKey.of(WEB, 0);
    Health.Cell c = health.cell(k, 4, 0);
    Flow f = flow(UDP, k, c);
    for (long t = 0; t <= 60_000; t += 100) {
      health.udp(f, c, false, t); // a stream of datagrams, never a reply
      health.sweep(w, t);
    }
    assertEquals(0, count(Counter.HEALTH_FAILURES));
    assertFalse(view.isEjected(k));
  }

  @Test
  void aUdpFlowThatHadRepliesAndKeepsSendingIntoSilenceIsAFailure() {
    InstanceKey k = InstanceKey.of(WEB, 0);
    Health.Cell c = health.cell(k, 4, 0);
    Flow f = flow(UDP, k, c);
    // request/response for a while: no failure
    for (long t = 0; t < 20_000; t += 100) {
      health.udp(f, c, false, t);
      health.udp(f, c, true, t + 5);
      health.sweep(w, t + 10);
    }
    assertEquals(0, count(Counter.HEALTH_FAILURES));
    // a last datagram that needs no answer, then quiet: not a failure either
    health.udp(f, c, false, 20_000);
    health.sweep(w, 40_000);
    assertEquals(0, count(Counter.HEALTH_FAILURES), "one unanswered datagram then quiet is no failure");
    // the server died meanwhile: the client sends again, no reply; the silence counts from now
    for (long t = 50_000; t < 55_000; t += 100) {
      health.udp(f, c, false, t);
      health.sweep(w, t);
    }
    assertEquals(0, count(Counter.HEALTH_FAILURES), "silence counts from the first unanswered datagram after the pause");
    health.udp(f, c, false, 55_000);
    health.sweep(w, 55_000);
    assertEquals(1, count(Counter.HEALTH_FAILURES));
    assertTrue(view.isEjected(k));
  }

  @Test
  void icmpUnreachableIsAFailureButFragmentationNeededIsNot() {
    InstanceKey k = InstanceKey.of(WEB, 0);
    Health.Cell c = health.cell(k, 4, 0);
    Flow f = flow(TCP, k, c);
    health.icmpError(w, f, false, 3, 4, 0); // fragmentation needed: path MTU, not health
    health.icmpError(w, f, true, 2, 0, 0); // packet too big
    health.icmpError(w, f, false, 11, 0, 0); // time exceeded
    assertEquals(0, count(Counter.HEALTH_FAILURES));
    health.icmpError(w, f, false, 3, 3, 0); // port unreachable
    assertTrue(view.isEjected(k));
    health.sweep(w, 1_000);
    assertFalse(view.isEjected(k));
    health.icmpError(w, f, true, 1, 4, 1_000); // ICMPv6 port unreachable
    assertTrue(view.isEjected(k));
  }

  @Test
  void severalFailuresInARowMayBeRequired() {
    Health strict = new Health(new HealthConfig(1_000, 5_000, 3, 1_000, 30_000, 50));
    strict.start(new Wiring("n1", null, null, null, null, view, null, 1400));
    InstanceKey k = InstanceKey.of(WEB, 0);
    Health.Cell c = strict.cell(k, 4, 0);
    Flow f = flow(TCP, k, c);
    strict.icmpError(w, f, false, 3, 1, 0);
    strict.icmpError(w, f, false, 3, 1, 0);
    strict.synAnswered(c); // a success in between starts the count over
    strict.icmpError(w, f, false, 3, 1, 0);
    strict.icmpError(w, f, false, 3, 1, 0);
    assertFalse(view.isEjected(k));
    strict.icmpError(w, f, false, 3, 1, 0);
    assertTrue(view.isEjected(k));
  }
}
