package io.semnet.core.policy.internal;

import io.semnet.core.policy.CandidateSet;
import io.semnet.core.policy.InstanceSelector;
import io.semnet.core.policy.NodeView;
import io.semnet.core.policy.NodeView.InstanceStats;
import io.semnet.core.policy.PruningContext;
import io.semnet.core.policy.RoutingPolicy;
import io.semnet.core.record.InstanceRecord;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * {@code hc}: the available instance with the highest capacity reported by the service managers;
 * ties go to the one with fewer active flows from this node, then the lower index. For k-pruning,
 * ranks by capacity.
 *
 * <p>Capacities come with the record and availability changes with the view's version, so each
 * selector derives once per (candidate set generation, view version) the available candidates of
 * highest capacity; a choice then reads only their flow counts (through
 * {@link NodeView#instanceStats} handles), and none at all when one candidate leads alone.
 */
public final class HighestCapacityPolicy implements RoutingPolicy {
  public static final String NAME = "hc";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public InstanceSelector newSelector() {
    return new Selector();
  }

  /** Derives the available candidates of the highest capacity with their stats handles. */
  private static final class Selector extends DerivingSelector.SubsetSelector {
    @Override
    int pick(Subset d, long affinityKey) {
      int[] index = d.index;
      InstanceStats[] stats = d.stats;
      int best = 0;
      int bestFlows = stats[0].activeFlows();
      for (int j = 1; j < index.length; j++) {
        int flows = stats[j].activeFlows();
        if (flows < bestFlows) {
          best = j;
          bestFlows = flows;
        }
      }
      return index[best];
    }

    @Override
    Subset derive(CandidateSet c, NodeView view, long version, Subset previous) {
      int[] available = availableIndices(c, view);
      int count = 0;
      double max = 0;
      for (int i : available) {
        double cap = c.get(i).metadata().capacity();
        if (count == 0 || cap > max) {
          max = cap;
          count = 1;
        } else if (cap == max) {
          count++;
        }
      }
      int[] leaders = new int[count];
      int j = 0;
      for (int i : available) {
        if (c.get(i).metadata().capacity() == max) {
          leaders[j++] = i;
        }
      }
      return new Subset(c, view, version, leaders, true);
    }

    @Override
    int scan(CandidateSet c, long affinityKey, NodeView view) {
      return scanFromScratch(c, view);
    }
  }

  /** The choice computed from scratch, without allocating. */
  static int scanFromScratch(CandidateSet c, NodeView view) {
    int best = InstanceSelector.NONE;
    double bestCap = 0;
    int bestFlows = 0;
    for (int i = 0, n = c.size(); i < n; i++) {
      InstanceRecord r = c.get(i);
      if (!view.isAvailable(r)) {
        continue;
      }
      double cap = r.metadata().capacity();
      if (best >= 0 && cap < bestCap) {
        continue;
      }
      // Flow counts are read only to break ties: most candidates lose on capacity alone.
      int flows = view.activeFlows(r.key());
      if (best < 0 || cap > bestCap || flows < bestFlows) {
        best = i;
        bestCap = cap;
        bestFlows = flows;
      }
    }
    return best;
  }

  @Override
  public List<InstanceRecord> rankForPruning(List<InstanceRecord> instances, PruningContext requester) {
    List<InstanceRecord> sorted = new ArrayList<>(instances);
    sorted.sort(Comparator.comparingDouble((InstanceRecord r) -> r.metadata().capacity()).reversed());
    return sorted;
  }
}
