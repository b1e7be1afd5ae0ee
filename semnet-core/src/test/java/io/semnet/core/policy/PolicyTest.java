package io.semnet.core.policy;

import static io.semnet.testing.Fixtures.instance;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.policy.internal.ClosestHighestCapacityPolicy;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class PolicyTest {
  private final RoutingPolicyRegistry registry = RoutingPolicyRegistry.getDefaultRegistry();
  private final LocalNodeView view = new LocalNodeView("here", GeoPoint.of(48.15, 11.57)); // Munich

  private static CandidateSet set(InstanceRecord... r) {
    return CandidateSet.of(1, r);
  }

  @Test
  void builtinsAreDiscovered() {
    assertEquals(java.util.Set.of("closest", "closesthc", "fastest", "hc", "rr", "sticky"), registry.policyNames());
  }

  @Test
  void roundRobinIsAnExactRotationUnderConcurrency() throws Exception {
    int n = 7;
    InstanceRecord[] recs = new InstanceRecord[n];
    for (int i = 0; i < n; i++) {
      recs[i] = instance(i, "node" + i, 1, null);
    }
    CandidateSet c = set(recs);
    InstanceSelector s = registry.policy("rr").newSelector();
    int threads = 4;
    int perThread = n * 25_000;
    AtomicIntegerArray counts = new AtomicIntegerArray(n);
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> ts = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread th = new Thread(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < perThread; i++) {
          counts.incrementAndGet(s.select(c, 0, view));
        }
      });
      th.start();
      ts.add(th);
    }
    go.countDown();
    for (Thread th : ts) {
      th.join();
    }
    for (int i = 0; i < n; i++) {
      assertEquals(threads * perThread / n, counts.get(i), "instance " + i);
    }
    // Sequentially, consecutive flows visit every instance in turn.
    int first = s.select(c, 0, view);
    for (int i = 1; i < 3 * n; i++) {
      assertEquals((first + i) % n, s.select(c, 0, view));
    }
  }

  @Test
  void roundRobinSkipsDownPeersAndReportsNone() {
    CandidateSet c = set(instance(0, "a", 1, null), instance(1, "b", 1, null));
    InstanceSelector s = registry.policy("rr").newSelector();
    view.setPeerUp("a", false);
    for (int i = 0; i < 10; i++) {
      assertEquals(1, s.select(c, 0, view));
    }
    view.setPeerUp("b", false);
    assertEquals(InstanceSelector.NONE, s.select(c, 0, view));
    assertEquals(InstanceSelector.NONE, s.select(set(), 0, view));
  }

  @Test
  void closestPrefersLowestRttThenLocation() {
    GeoPoint berlin = GeoPoint.of(52.52, 13.40);
    GeoPoint augsburg = GeoPoint.of(48.37, 10.90);
    CandidateSet c = set(instance(0, "far", 1, berlin), instance(1, "near", 1, augsburg), instance(2, "slowlink", 1, augsburg));
    InstanceSelector s = registry.policy("closest").newSelector();
    assertEquals(1, s.select(c, 0, view), "no RTT known: nearest by location (ties to lower index)");
    view.recordPeerRtt("far", 2_000_000);
    assertEquals(0, s.select(c, 0, view), "a measured RTT beats a location guess");
    view.recordPeerRtt("near", 5_000_000);
    view.recordPeerRtt("slowlink", 1_000_000);
    assertEquals(2, s.select(c, 0, view));
    CandidateSet withLocal = set(instance(0, "far", 1, berlin), instance(1, "here", 1, null));
    assertEquals(1, s.select(withLocal, 0, view), "local instances have RTT 0");
  }

  @Test
  void highestCapacityAndClosestHighestCapacity() {
    CandidateSet c = set(
        instance(0, "n0", 5, null), instance(1, "n1", 9, null), instance(2, "n2", 7, null), instance(3, "n3", 9, null));
    assertEquals(1, registry.policy("hc").newSelector().select(c, 0, view));
    view.flowOpened(c.get(1).key());
    assertEquals(3, registry.policy("hc").newSelector().select(c, 0, view), "capacity ties go to fewer active flows");

    view.recordPeerRtt("n0", 1_000);
    view.recordPeerRtt("n1", 9_000);
    view.recordPeerRtt("n2", 2_000);
    view.recordPeerRtt("n3", 3_000);
    // k = 3 closest are n0, n2, n3; best capacity among them is n3 (9) even though n1 (9) exists.
    assertEquals(3, registry.policy("closesthc").newSelector().select(c, 0, view));
    assertEquals(2, new ClosestHighestCapacityPolicy(2).newSelector().select(c, 0, view));
    assertEquals(0, new ClosestHighestCapacityPolicy(1).newSelector().select(c, 0, view));
  }

  @Test
  void fastestPrefersLowSetupLatencyAndNeverPicksTheWorstOfMany() {
    CandidateSet two = set(instance(0, "a", 1, null), instance(1, "b", 1, null));
    view.recordSetupLatency(two.get(0).key(), 9_000_000);
    view.recordSetupLatency(two.get(1).key(), 1_000_000);
    InstanceSelector s = registry.policy("fastest").newSelector();
    for (int i = 0; i < 100; i++) {
      assertEquals(1, s.select(two, 0, view), "with two candidates P2C compares both");
    }
    int n = 10;
    LocalNodeView fresh = new LocalNodeView("here", null);
    InstanceRecord[] recs = new InstanceRecord[n];
    for (int i = 0; i < n; i++) {
      recs[i] = instance(i, "m" + i, 1, null);
      fresh.recordSetupLatency(recs[i].key(), (i + 1) * 1_000_000L);
    }
    CandidateSet many = set(recs);
    int[] counts = new int[n];
    for (int i = 0; i < 20_000; i++) {
      counts[s.select(many, 0, fresh)]++;
    }
    // P2C: rank r (0 = fastest) wins with probability 2(n-1-r)/(n(n-1)): 4000, 3556, ... 444, 0.
    assertTrue(Math.abs(counts[0] - 4000) < 400, java.util.Arrays.toString(counts));
    assertEquals(0, counts[n - 1], "the slowest instance loses every comparison");
    for (int i = 1; i < n; i++) {
      assertTrue(counts[i - 1] > counts[i], "faster instances are chosen more often: " + java.util.Arrays.toString(counts));
    }
  }

  @Test
  void fastestTriesUnmeasuredInstances() {
    CandidateSet two = set(instance(0, "a", 1, null), instance(1, "b", 1, null));
    view.recordSetupLatency(two.get(0).key(), 1_000_000);
    assertEquals(1, registry.policy("fastest").newSelector().select(two, 0, view));
  }

  @Test
  void stickyKeepsClientsAndMovesFewWhenTheSetChanges() {
    int n = 20;
    int clients = 50_000;
    InstanceRecord[] recs = new InstanceRecord[n];
    for (int i = 0; i < n; i++) {
      recs[i] = instance(i, "s" + i, 1, null);
    }
    InstanceSelector s = registry.policy("sticky").newSelector();
    CandidateSet all = CandidateSet.of(1, recs);
    int[] before = new int[clients];
    int[] load = new int[n];
    for (int k = 0; k < clients; k++) {
      before[k] = all.get(s.select(all, k * 7919L, view)).ordinal();
      assertEquals(before[k], all.get(s.select(all, k * 7919L, view)).ordinal(), "same client, same instance");
      load[before[k]]++;
    }
    for (int l : load) {
      assertTrue(l > clients / n * 0.8 && l < clients / n * 1.2, "Maglev spreads load evenly: " + java.util.Arrays.toString(load));
    }
    // Remove instance 5: only its clients should move.
    InstanceRecord[] fewer = new InstanceRecord[n - 1];
    for (int i = 0, j = 0; i < n; i++) {
      if (i != 5) {
        fewer[j++] = recs[i];
      }
    }
    CandidateSet removed = CandidateSet.of(2, fewer);
    int moved = 0;
    int movedUnnecessarily = 0;
    for (int k = 0; k < clients; k++) {
      int now = removed.get(s.select(removed, k * 7919L, view)).ordinal();
      if (now != before[k]) {
        moved++;
        if (before[k] != 5) {
          movedUnnecessarily++;
        }
      }
    }
    double movedShare = moved / (double) clients;
    double extraShare = movedUnnecessarily / (double) clients;
    System.out.printf("sticky: removing 1 of %d instances moved %.2f%% of clients (%.2f%% not on the removed one)%n",
        n, 100 * movedShare, 100 * extraShare);
    assertTrue(movedShare < 1.0 / n + 0.015, "moved " + movedShare);
    assertTrue(extraShare < 0.015, "moved unnecessarily " + extraShare);
    // Adding an instance back moves roughly 1/n of clients too.
    InstanceRecord[] more = recs.clone();
    CandidateSet readded = CandidateSet.of(3, more);
    int movedBack = 0;
    for (int k = 0; k < clients; k++) {
      if (readded.get(s.select(readded, k * 7919L, view)).ordinal() != before[k]) {
        movedBack++;
      }
    }
    assertEquals(0, movedBack, "the table depends on the set, not on its history");
  }

  @Test
  void stickyFallsBackWhenItsInstanceIsDown() {
    CandidateSet c = set(instance(0, "a", 1, null), instance(1, "b", 1, null));
    InstanceSelector s = registry.policy("sticky").newSelector();
    int first = s.select(c, 12345, view);
    view.setPeerUp(c.get(first).locator().worker().nodeId(), false);
    int second = s.select(c, 12345, view);
    assertNotEquals(first, second);
    assertTrue(second >= 0);
  }
}
