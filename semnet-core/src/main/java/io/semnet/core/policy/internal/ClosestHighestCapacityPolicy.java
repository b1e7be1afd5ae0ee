package io.semnet.core.policy.internal;

import io.semnet.core.policy.CandidateSet;
import io.semnet.core.policy.InstanceSelector;
import io.semnet.core.policy.NodeView;
import io.semnet.core.policy.PruningContext;
import io.semnet.core.policy.RoutingPolicy;
import io.semnet.core.record.InstanceRecord;
import java.util.List;

/**
 * {@code closesthc}: the highest-capacity instance among the k closest available ones (closeness as
 * in {@code closest}); ties go to the closer one. Default k = 3. For k-pruning, ranks by distance.
 *
 * <p>Like {@code closest}, the choice is derived once per (candidate set generation, view version)
 * and reused for every flow until either changes (see {@code DerivingSelector}).
 */
public final class ClosestHighestCapacityPolicy implements RoutingPolicy {
  public static final String NAME = "closesthc";
  public static final int DEFAULT_K = 3;

  private final int k;

  public ClosestHighestCapacityPolicy() {
    this(DEFAULT_K);
  }

  public ClosestHighestCapacityPolicy(int k) {
    if (k < 1) {
      throw new IllegalArgumentException("k must be >= 1, got " + k);
    }
    this.k = k;
  }

  public int k() {
    return k;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public InstanceSelector newSelector() {
    return new Selector();
  }

  private final class Selector extends DerivingSelector.FixedChoice {
    @Override
    int choose(CandidateSet c, NodeView view) {
      int best = InstanceSelector.NONE;
      double bestCap = -1;
      for (int i : Closeness.kClosest(c, view, k)) {
        double cap = c.get(i).metadata().capacity();
        if (cap > bestCap) {
          best = i;
          bestCap = cap;
        }
      }
      return best;
    }

    @Override
    int scan(CandidateSet c, NodeView view) {
      return scanKClosest(c, view);
    }
  }

  /** The choice computed from scratch, without allocating: k rounds of {@link Closeness#nextClosest}. */
  private int scanKClosest(CandidateSet c, NodeView view) {
    int best = InstanceSelector.NONE;
    double bestCap = -1;
    long prevKey = Long.MIN_VALUE;
    int prevIndex = -1;
    for (int round = 0; round < k; round++) {
      int next = Closeness.nextClosest(c, view, prevKey, prevIndex);
      if (next < 0) {
        break;
      }
      InstanceRecord r = c.get(next);
      double cap = r.metadata().capacity();
      if (cap > bestCap) {
        best = next;
        bestCap = cap;
      }
      prevKey = Closeness.key(r, view);
      prevIndex = next;
    }
    return best;
  }

  @Override
  public List<InstanceRecord> rankForPruning(List<InstanceRecord> instances, PruningContext requester) {
    return ClosestPolicy.rankByDistance(instances, requester);
  }
}
