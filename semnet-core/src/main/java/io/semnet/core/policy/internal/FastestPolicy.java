package io.semnet.core.policy.internal;

import io.semnet.core.policy.CandidateSet;
import io.semnet.core.policy.InstanceSelector;
import io.semnet.core.policy.NodeView;
import io.semnet.core.policy.RoutingPolicy;
import io.semnet.core.record.InstanceRecord;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code fastest}: power of two choices over observed connection set-up latency. Two distinct
 * available candidates are drawn at random and the one with the lower cost wins, cost = EWMA of
 * SYN-to-SYN-ACK latency measured by this node's translator × (active flows + 1). An instance never
 * measured costs 0, so new instances get traffic and thereby a measurement. Drawing two instead of
 * taking the global minimum avoids herding every node onto one instance between measurements.
 */
public final class FastestPolicy implements RoutingPolicy {
  public static final String NAME = "fastest";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public InstanceSelector newSelector() {
    return FastestPolicy::select;
  }

  static int select(CandidateSet c, long affinityKey, NodeView view) {
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
    long ewma = view.setupLatencyNanos(r.key());
    return (ewma < 0 ? 0.0 : (double) ewma) * (view.activeFlows(r.key()) + 1);
  }
}
