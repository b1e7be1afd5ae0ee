package io.semnet.core.policy.internal;

import io.semnet.core.policy.CandidateSet;
import io.semnet.core.policy.InstanceSelector;
import io.semnet.core.policy.NodeView;
import io.semnet.core.policy.NodeView.InstanceStats;
import io.semnet.core.policy.RoutingPolicy;
import io.semnet.core.record.InstanceRecord;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code fastest}: power of two choices over observed connection set-up latency. Two distinct
 * available candidates are drawn at random and the one with the lower cost wins, cost = EWMA of
 * SYN-to-SYN-ACK latency measured by this node's translator × (active flows + 1). An instance never
 * measured costs 0, so new instances get traffic and thereby a measurement. Drawing two instead of
 * taking the global minimum avoids herding every node onto one instance between measurements.
 *
 * <p>The available candidates and their {@link NodeView#instanceStats} handles are derived once per
 * (candidate set generation, view version); a choice then draws two positions and reads four
 * counters, without a map lookup.
 */
public final class FastestPolicy implements RoutingPolicy {
  public static final String NAME = "fastest";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public InstanceSelector newSelector() {
    return new Selector();
  }

  /** Derives the available candidates with their stats handles. */
  private static final class Selector extends DerivingSelector.SubsetSelector {
    @Override
    int pick(Subset d, long affinityKey) {
      int[] index = d.index;
      int m = index.length;
      // Both draws from one random long, each half scaled to its range by a multiply (no division;
      // the bias, below m / 2^32, is far under the measurements' noise).
      long r = ThreadLocalRandom.current().nextLong();
      int a = (int) (((r >>> 32) * m) >>> 32);
      int b = a + 1 + (int) (((r & 0xFFFFFFFFL) * (m - 1)) >>> 32);
      b -= m & ((m - 1 - b) >> 31); // wrap past the end; a coin toss, so without a branch
      InstanceStats[] stats = d.stats;
      // Which one wins is a coin toss to the branch predictor too, so decide without a branch: costs
      // are non-negative, where the order of the raw bits is the order of the values.
      long diff = Double.doubleToRawLongBits(cost(stats[b])) - Double.doubleToRawLongBits(cost(stats[a]));
      return index[a + (int) (diff >>> 63) * (b - a)];
    }

    @Override
    Subset derive(CandidateSet c, NodeView view, long version, Subset previous) {
      return new Subset(c, view, version, availableIndices(c, view), true);
    }

    @Override
    int scan(CandidateSet c, long affinityKey, NodeView view) {
      return scanFromScratch(c, view);
    }
  }

  /** The choice computed without derived state: two random available candidates, looked up. */
  static int scanFromScratch(CandidateSet c, NodeView view) {
    int n = c.size();
    if (n == 0) {
      return InstanceSelector.NONE;
    }
    ThreadLocalRandom rnd = ThreadLocalRandom.current();
    int a = nextAvailable(c, view, rnd.nextInt(n), -1);
    if (a < 0) {
      return InstanceSelector.NONE;
    }
    if (n == 1) {
      return a;
    }
    int offset = 1 + rnd.nextInt(n - 1);
    int b = nextAvailable(c, view, a + offset < n ? a + offset : a + offset - n, a);
    if (b < 0) {
      return a;
    }
    return cost(c.get(b), view) < cost(c.get(a), view) ? b : a;
  }

  /** First available index at or after {@code from} (wrapping), other than {@code exclude}. */
  private static int nextAvailable(CandidateSet c, NodeView view, int from, int exclude) {
    int n = c.size();
    for (int i = 0; i < n; i++) {
      int idx = from + i < n ? from + i : from + i - n;
      if (idx != exclude && view.isAvailable(c.get(idx))) {
        return idx;
      }
    }
    return -1;
  }

  static double cost(InstanceRecord r, NodeView view) {
    return cost(view.setupLatencyNanos(r.key()), view.activeFlows(r.key()));
  }

  private static double cost(InstanceStats s) {
    return cost(s.setupLatencyNanos(), s.activeFlows());
  }

  private static double cost(long setupEwma, int activeFlows) {
    return (setupEwma < 0 ? 0.0 : (double) setupEwma) * (activeFlows + 1);
  }
}
