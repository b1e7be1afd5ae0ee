package io.semnet.core.policy.internal;

import static io.semnet.testing.Fixtures.instance;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.policy.CandidateSet;
import io.semnet.core.policy.InstanceSelector;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.policy.NodeView;
import io.semnet.core.policy.RoutingPolicy;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceKey;
import io.semnet.core.record.InstanceRecord;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The built-in policies answer from state derived once per change: these tests change measurements
 * and check the choice follows, that it always equals what a scan from scratch would choose, and
 * that a change costs one rebuild, not one per measurement or per choice.
 */
class DerivedChoiceTest {
  private static final GeoPoint MUNICH = GeoPoint.of(48.15, 11.57);
  private final LocalNodeView view = new LocalNodeView("here", MUNICH);

  private static InstanceRecord[] records(int n) {
    InstanceRecord[] recs = new InstanceRecord[n];
    for (int i = 0; i < n; i++) {
      recs[i] = instance(i, "p" + i, 1 + (i * 7) % 5, GeoPoint.of(45 + i % 6, 9 + i % 4));
    }
    return recs;
  }

  private static String peer(CandidateSet c, int index) {
    return c.get(index).locator().worker().nodeId();
  }

  /** The same measurements, but unversioned: the policies must scan from scratch for every choice. */
  static NodeView uncached(NodeView v) {
    return new NodeView() {
      @Override
      public String localNodeId() {
        return v.localNodeId();
      }

      @Override
      public GeoPoint localLocation() {
        return v.localLocation();
      }

      @Override
      public long rttNanos(String nodeId) {
        return v.rttNanos(nodeId);
      }

      @Override
      public boolean isPeerUp(String nodeId) {
        return v.isPeerUp(nodeId);
      }

      @Override
      public int activeFlows(InstanceKey instance) {
        return v.activeFlows(instance);
      }

      @Override
      public long setupLatencyNanos(InstanceKey instance) {
        return v.setupLatencyNanos(instance);
      }
    };
  }

  @Test
  void viewVersionMovesOnlyWhenOrderingInputsChange() {
    long v0 = view.version();
    view.recordPeerRtt("a", 1_000_000);
    long v1 = view.version();
    assertTrue(v1 > v0, "a new peer's first RTT");
    view.recordPeerRtt("a", 1_000_000);
    assertEquals(v1, view.version(), "a sample equal to the smoothed RTT changes nothing");
    view.recordPeerRtt("a", 9_000_000);
    long v2 = view.version();
    assertTrue(v2 > v1, "the smoothed RTT moved");
    view.setPeerUp("a", true);
    assertEquals(v2, view.version(), "already up");
    view.setPeerUp("a", false);
    long v3 = view.version();
    assertTrue(v3 > v2);
    view.recordPeerRtt("a", view.rttNanos("a"));
    assertTrue(view.version() > v3, "an answered probe brings the peer back up");
    long v4 = view.version();
    view.forgetPeer("unknown");
    assertEquals(v4, view.version());
    view.forgetPeer("a");
    assertTrue(view.version() > v4);

    InstanceKey k = instance(0, "a", 1, null).key();
    long v5 = view.version();
    view.flowOpened(k);
    long v6 = view.version();
    assertTrue(v6 > v5, "a new measurement cell invalidates handles that read 'not measured'");
    view.flowOpened(k);
    view.flowClosed(k);
    view.recordSetupLatency(k, 5_000_000);
    assertEquals(v6, view.version(), "per-flow measurements are read live, they do not move the version");
    NodeView.InstanceStats stats = view.instanceStats(k);
    view.flowOpened(k);
    assertEquals(2, stats.activeFlows());
    assertEquals(5_000_000, stats.setupLatencyNanos());
    view.forgetInstance(k);
    assertTrue(view.version() > v6);
    assertEquals(NodeView.UNVERSIONED, uncached(view).version());
  }

  @Test
  void closestFollowsRttAndPeerState() {
    CandidateSet c = CandidateSet.of(1, records(5));
    InstanceSelector s = new ClosestPolicy().newSelector();
    for (int i = 0; i < 5; i++) {
      view.recordPeerRtt(peer(c, i), (10 - i) * 1_000_000L);
    }
    assertEquals(4, s.select(c, 0, view));
    view.forgetPeer(peer(c, 1));
    view.recordPeerRtt(peer(c, 1), 500_000);
    assertEquals(1, s.select(c, 0, view), "a lower RTT takes over at once");
    view.setPeerUp(peer(c, 1), false);
    assertEquals(4, s.select(c, 0, view), "a down peer is skipped");
    for (int i = 0; i < 40; i++) {
      view.recordPeerRtt(peer(c, 4), 20_000_000); // the smoothed RTT climbs past the others
    }
    assertEquals(3, s.select(c, 0, view));
    view.setPeerUp(peer(c, 1), true);
    assertEquals(1, s.select(c, 0, view), "back up");
    view.forgetPeer(peer(c, 1));
    assertEquals(3, s.select(c, 0, view), "a forgotten peer has no RTT: measured ones rank first");
  }

  @Test
  void closestHighestCapacityFollowsRttAndRecords() {
    InstanceRecord[] recs = {
        instance(0, "n0", 5, null), instance(1, "n1", 9, null), instance(2, "n2", 7, null), instance(3, "n3", 9, null)};
    CandidateSet c = CandidateSet.of(1, recs);
    InstanceSelector s = new ClosestHighestCapacityPolicy(2).newSelector();
    view.recordPeerRtt("n0", 1_000);
    view.recordPeerRtt("n1", 9_000);
    view.recordPeerRtt("n2", 2_000);
    view.recordPeerRtt("n3", 3_000);
    assertEquals(2, s.select(c, 0, view), "n0 and n2 are the two closest; n2 has more capacity");
    view.setPeerUp("n2", false);
    assertEquals(3, s.select(c, 0, view), "n2 down: n0 and n3 are the two closest");
    view.setPeerUp("n2", true);
    // A new record (new generation) changes a capacity: n0 now leads among n0 and n2.
    InstanceRecord[] updated = recs.clone();
    updated[0] = instance(0, "n0", 8, null);
    assertEquals(0, s.select(CandidateSet.of(2, updated), 0, view));
    assertEquals(2, s.select(c, 0, view), "the old set still answers by its own records");
  }

  @Test
  void highestCapacityFollowsPeerStateAndReadsFlowsLive() {
    CandidateSet c = CandidateSet.of(1,
        instance(0, "n0", 5, null), instance(1, "n1", 9, null), instance(2, "n2", 7, null), instance(3, "n3", 9, null));
    InstanceSelector s = new HighestCapacityPolicy().newSelector();
    assertEquals(1, s.select(c, 0, view));
    view.flowOpened(c.get(1).key());
    assertEquals(3, s.select(c, 0, view), "ties go to fewer flows");
    long v = view.version();
    view.flowOpened(c.get(3).key());
    view.flowOpened(c.get(3).key());
    assertEquals(v + 1, view.version(), "only n3's new cell moved the version");
    view.flowClosed(c.get(3).key());
    view.flowClosed(c.get(3).key());
    view.flowOpened(c.get(3).key());
    view.flowOpened(c.get(3).key());
    assertEquals(1, s.select(c, 0, view), "flow counts are read live");
    view.setPeerUp("n1", false);
    view.setPeerUp("n3", false);
    assertEquals(2, s.select(c, 0, view));
    view.setPeerUp("n0", false);
    view.setPeerUp("n2", false);
    assertEquals(InstanceSelector.NONE, s.select(c, 0, view));
  }

  @Test
  void roundRobinRotatesOverWhatIsAvailableNow() {
    CandidateSet c = CandidateSet.of(1, records(4));
    InstanceSelector s = new RoundRobinPolicy().newSelector();
    view.setPeerUp(peer(c, 2), false);
    int[] counts = new int[4];
    for (int i = 0; i < 300; i++) {
      counts[s.select(c, 0, view)]++;
    }
    assertEquals(List.of(100, 100, 0, 100), List.of(counts[0], counts[1], counts[2], counts[3]));
    view.setPeerUp(peer(c, 2), true);
    counts = new int[4];
    for (int i = 0; i < 400; i++) {
      counts[s.select(c, 0, view)]++;
    }
    assertEquals(List.of(100, 100, 100, 100), List.of(counts[0], counts[1], counts[2], counts[3]));
  }

  @Test
  void fastestFollowsAvailabilityAndLatency() {
    CandidateSet c = CandidateSet.of(1, records(2));
    InstanceSelector s = new FastestPolicy().newSelector();
    view.recordSetupLatency(c.get(0).key(), 1_000_000);
    view.recordSetupLatency(c.get(1).key(), 9_000_000);
    assertEquals(0, s.select(c, 0, view));
    for (int i = 0; i < 30; i++) {
      view.recordSetupLatency(c.get(0).key(), 50_000_000);
    }
    assertEquals(1, s.select(c, 0, view), "set-up latency is read live");
    view.setPeerUp(peer(c, 1), false);
    for (int i = 0; i < 20; i++) {
      assertEquals(0, s.select(c, 0, view));
    }
    view.setPeerUp(peer(c, 0), false);
    assertEquals(InstanceSelector.NONE, s.select(c, 0, view));
  }

  @Test
  void stickyMovesAClientOnlyWhileItsInstanceIsDown() {
    CandidateSet c = CandidateSet.of(1, records(8));
    InstanceSelector s = new StickyPolicy().newSelector();
    int home = s.select(c, 4242, view);
    view.setPeerUp(peer(c, home), false);
    int away = s.select(c, 4242, view);
    assertNotEquals(home, away);
    view.setPeerUp(peer(c, home), true);
    assertEquals(home, s.select(c, 4242, view));
  }

  /** Random measurement changes; after each, every deterministic policy answers as a scan would. */
  @Test
  void derivedChoicesAlwaysEqualAScanFromScratch() {
    List<RoutingPolicy> policies = List.of(new ClosestPolicy(), new HighestCapacityPolicy(),
        new ClosestHighestCapacityPolicy(), new ClosestHighestCapacityPolicy(1), new ClosestHighestCapacityPolicy(5),
        new StickyPolicy());
    List<InstanceSelector> derived = new ArrayList<>();
    List<InstanceSelector> scanned = new ArrayList<>();
    for (RoutingPolicy p : policies) {
      derived.add(p.newSelector());
      scanned.add(p.newSelector());
    }
    InstanceSelector rr = new RoundRobinPolicy().newSelector();
    InstanceSelector fastest = new FastestPolicy().newSelector();
    NodeView oracle = uncached(view);
    Random rnd = new Random(7);
    InstanceRecord[] recs = records(12);
    CandidateSet c = CandidateSet.of(1, recs);
    for (int step = 0; step < 3000; step++) {
      String p = "p" + rnd.nextInt(14); // two peers host no candidate
      switch (rnd.nextInt(8)) {
        case 0, 1, 2 -> view.recordPeerRtt(p, rnd.nextInt(4) * 1_000_000L); // equal RTTs test the ties
        case 3 -> view.setPeerUp(p, rnd.nextInt(3) != 0);
        case 4 -> view.forgetPeer(p);
        case 5 -> view.flowOpened(recs[rnd.nextInt(recs.length)].key());
        case 6 -> view.flowClosed(recs[rnd.nextInt(recs.length)].key());
        default -> {
          int i = rnd.nextInt(recs.length);
          recs[i] = instance(i, "p" + i, rnd.nextInt(4), rnd.nextBoolean() ? null : GeoPoint.of(40 + rnd.nextInt(10), 10));
          c = CandidateSet.of(step + 2, recs);
        }
      }
      Set<Integer> available = new HashSet<>();
      for (int i = 0; i < c.size(); i++) {
        if (view.isAvailable(c.get(i))) {
          available.add(i);
        }
      }
      for (int j = 0; j < policies.size(); j++) {
        long client = rnd.nextLong();
        assertEquals(scanned.get(j).select(c, client, oracle), derived.get(j).select(c, client, view),
            policies.get(j).name() + " at step " + step);
      }
      int r = rr.select(c, 0, view);
      int f = fastest.select(c, 0, view);
      assertEquals(available.isEmpty(), r < 0);
      assertEquals(available.isEmpty(), f < 0);
      assertTrue(r < 0 || available.contains(r), "rr picked an unavailable candidate at step " + step);
      assertTrue(f < 0 || available.contains(f), "fastest picked an unavailable candidate at step " + step);
    }
  }

  @Test
  void aChangeCostsOneRebuildWhateverTheNumberOfMeasurementsOrChoices() {
    CandidateSet c = CandidateSet.of(1, records(10));
    DerivingSelector<?> s = (DerivingSelector<?>) new ClosestPolicy().newSelector();
    s.select(c, 0, view);
    assertEquals(1, s.rebuilds());
    for (int i = 0; i < 1000; i++) {
      s.select(c, i, view);
    }
    assertEquals(1, s.rebuilds(), "no change, no rebuild");
    for (int i = 0; i < 100; i++) {
      view.recordPeerRtt(peer(c, i % 10), 1_000_000L + i * 1000);
      view.flowOpened(c.get(i % 10).key());
    }
    assertEquals(1, s.rebuilds(), "updates do no per-selector work");
    for (int i = 0; i < 1000; i++) {
      s.select(c, i, view);
    }
    assertEquals(2, s.rebuilds(), "a burst of updates costs one rebuild, on the next choice");
    CandidateSet next = CandidateSet.of(2, records(10));
    s.select(next, 0, view);
    s.select(next, 0, view);
    assertEquals(3, s.rebuilds(), "a new generation costs one rebuild");
  }

  @Test
  void stickyKeepsItsTableWhenOnlyMeasurementsChange() {
    CandidateSet c = CandidateSet.of(1, records(10));
    InstanceSelector s = new StickyPolicy().newSelector();
    s.select(c, 1, view);
    @SuppressWarnings("unchecked")
    DerivingSelector<DerivingSelector.Derived> d = (DerivingSelector<DerivingSelector.Derived>) s;
    Object before = tableOf(d.peek());
    view.setPeerUp(peer(c, 3), false);
    s.select(c, 1, view);
    assertEquals(2, d.rebuilds());
    assertTrue(before == tableOf(d.peek()), "the Maglev table depends on the members only");
    Object slots = field(before, "slots");

    InstanceRecord[] recs = records(10);
    recs[4] = instance(4, "p4", 42, null); // a new record: other capacity and location, same instances
    CandidateSet sameInstances = CandidateSet.of(2, recs);
    s.select(sameInstances, 1, view);
    assertTrue(slots == field(tableOf(d.peek()), "slots"), "a record that only changes metadata keeps the slots");
    InstanceRecord[] reordered = recs.clone();
    reordered[0] = recs[1];
    reordered[1] = recs[0];
    s.select(CandidateSet.of(3, reordered), 1, view);
    assertTrue(slots != field(tableOf(d.peek()), "slots"), "other positions need another table");
  }

  private static Object tableOf(Object snapshot) {
    return field(snapshot, "table");
  }

  private static Object field(Object o, String name) {
    try {
      var f = o.getClass().getDeclaredField(name);
      f.setAccessible(true);
      return f.get(o);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }

  /**
   * One thread flips peers up and down while four choose. Each choice must be right for some state
   * between the last update completed before it began and the one that may be in flight when it
   * ends, or for a mix of those states (a choice reads candidate by candidate while the updater
   * runs): never older.
   */
  @Test
  void concurrentUpdatesNeverYieldAChoiceStaleByMoreThanTheUpdateInFlight() throws Exception {
    int n = 5;
    int updates = 20_000;
    InstanceRecord[] recs = new InstanceRecord[n];
    double[] capacity = {2, 9, 4, 7, 1};
    for (int i = 0; i < n; i++) {
      recs[i] = instance(i, "q" + i, capacity[i], null);
      view.recordPeerRtt("q" + i, (i + 1) * 1_000_000L); // closeness follows the index
    }
    CandidateSet c = CandidateSet.of(1, recs);
    // The schedule and, for every state u (after u updates), the expected choices.
    Random rnd = new Random(11);
    int[] flip = new int[updates + 1];
    boolean[][] up = new boolean[updates + 1][n];
    java.util.Arrays.fill(up[0], true);
    for (int u = 1; u <= updates; u++) {
      flip[u] = rnd.nextInt(n);
      up[u] = up[u - 1].clone();
      up[u][flip[u]] = !up[u][flip[u]];
    }
    List<RoutingPolicy> policies = List.of(new ClosestPolicy(), new HighestCapacityPolicy(), new ClosestHighestCapacityPolicy(2));
    int[][] expected = new int[policies.size()][updates + 1];
    for (int u = 0; u <= updates; u++) {
      for (int j = 0; j < expected.length; j++) {
        expected[j][u] = choiceFor(j, up[u], capacity);
      }
    }
    List<InstanceSelector> selectors = new ArrayList<>();
    for (RoutingPolicy p : policies) {
      selectors.add(p.newSelector());
    }
    InstanceSelector rr = new RoundRobinPolicy().newSelector();
    InstanceSelector fastest = new FastestPolicy().newSelector();
    InstanceSelector sticky = new StickyPolicy().newSelector();
    java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicReference<String> failure = new java.util.concurrent.atomic.AtomicReference<>();
    java.util.concurrent.atomic.AtomicLong choices = new java.util.concurrent.atomic.AtomicLong();
    List<Thread> choosers = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      long seed = t;
      Thread th = new Thread(() -> {
        Random r = new Random(seed);
        while (failure.get() == null) {
          int before = done.get();
          if (before >= updates) {
            return;
          }
          int j = r.nextInt(selectors.size() + 3);
          int choice = j < selectors.size() ? selectors.get(j).select(c, 0, view)
              : (j == selectors.size() ? rr : j == selectors.size() + 1 ? fastest : sticky).select(c, r.nextLong(), view);
          int after = Math.min(done.get() + 1, updates);
          boolean ok = false;
          for (int u = before; u <= after && !ok; u++) {
            ok = j < selectors.size() ? expected[j][u] == choice : choice >= 0 ? up[u][choice] : allDown(up[u]);
          }
          if (!ok) {
            // A choice reads the view candidate by candidate while the updater runs, so it may see
            // each candidate as it was at a different moment of the window: a mix of its states.
            ok = j < selectors.size() ? rightForSomeMix(j, choice, up, before, after, capacity)
                : availableInSomeMix(choice, up, before, after);
          }
          if (!ok) {
            failure.compareAndSet(null, "selector " + j + " chose " + choice + " between states " + before + " and " + after);
          }
          choices.incrementAndGet();
        }
      });
      th.start();
      choosers.add(th);
    }
    for (int u = 1; u <= updates; u++) {
      view.setPeerUp("q" + flip[u], up[u][flip[u]]);
      done.incrementAndGet();
      if ((u & 63) == 0) {
        Thread.yield();
      }
    }
    for (Thread th : choosers) {
      th.join();
    }
    assertEquals(null, failure.get());
    assertTrue(choices.get() > 1000, "choosers ran: " + choices.get());
    for (InstanceSelector s : selectors) {
      assertTrue(((DerivingSelector<?>) s).rebuilds() <= updates + 1, "at most one rebuild per change");
    }
  }

  /**
   * True if {@code choice} is what selector {@code j} (0 closest, 1 hc, 2 closesthc with k = 2)
   * gives for some state that takes each candidate's availability from some moment in
   * [{@code from}, {@code to}]: never from before the window, never from after it.
   */
  private static boolean rightForSomeMix(int j, int choice, boolean[][] up, int from, int to, double[] capacity) {
    int n = capacity.length;
    boolean[] canBeUp = new boolean[n];
    boolean[] canBeDown = new boolean[n];
    for (int u = from; u <= to; u++) {
      for (int i = 0; i < n; i++) {
        canBeUp[i] |= up[u][i];
        canBeDown[i] |= !up[u][i];
      }
    }
    boolean[] mix = new boolean[n];
    for (int bits = 0; bits < 1 << n; bits++) {
      boolean possible = true;
      for (int i = 0; i < n && possible; i++) {
        mix[i] = (bits & 1 << i) != 0;
        possible = mix[i] ? canBeUp[i] : canBeDown[i];
      }
      if (possible && choiceFor(j, mix, capacity) == choice) {
        return true;
      }
    }
    return false;
  }

  /**
   * For rr, fastest and sticky (whose pick among the available ones depends on more than
   * availability): {@code choice} was available at some moment of the window, or, for no choice,
   * every candidate was down at some moment of it.
   */
  private static boolean availableInSomeMix(int choice, boolean[][] up, int from, int to) {
    int n = up[from].length;
    for (int i = 0; i < n; i++) {
      boolean wanted = i == choice;
      boolean seen = false;
      for (int u = from; u <= to && !seen; u++) {
        seen = choice < 0 ? !up[u][i] : !wanted || up[u][i];
      }
      if (!seen) {
        return false;
      }
    }
    return true;
  }

  /** The choice of selector {@code j} (as in {@link #rightForSomeMix}) for one availability state. */
  private static int choiceFor(int j, boolean[] up, double[] capacity) {
    int closest = -1;
    int hc = -1;
    int chc = -1;
    int seen = 0;
    for (int i = 0; i < up.length; i++) {
      if (!up[i]) {
        continue;
      }
      closest = closest < 0 ? i : closest;
      hc = hc < 0 || capacity[i] > capacity[hc] ? i : hc;
      if (seen++ < 2 && (chc < 0 || capacity[i] > capacity[chc])) {
        chc = i;
      }
    }
    return j == 0 ? closest : j == 1 ? hc : chc;
  }

  private static boolean allDown(boolean[] up) {
    for (boolean b : up) {
      if (b) {
        return false;
      }
    }
    return true;
  }
}
