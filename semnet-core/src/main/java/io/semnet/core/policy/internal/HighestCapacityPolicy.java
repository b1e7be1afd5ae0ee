package io.semnet.core.policy.internal;

import io.semnet.core.policy.CandidateSet;
import io.semnet.core.policy.InstanceSelector;
import io.semnet.core.policy.NodeView;
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
 */
public final class HighestCapacityPolicy implements RoutingPolicy {
  public static final String NAME = "hc";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public InstanceSelector newSelector() {
    return HighestCapacityPolicy::select;
  }

  static int select(CandidateSet c, long affinityKey, NodeView view) {
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
