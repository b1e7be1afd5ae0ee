package io.semnet.samples.policy;

import io.semnet.core.policy.CandidateSet;
import io.semnet.core.policy.InstanceSelector;
import io.semnet.core.policy.NodeView;
import io.semnet.core.policy.RoutingPolicy;
import io.semnet.core.record.InstanceRecord;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code leastflows}: the available instance with the fewest flows this node has open to it; ties
 * rotate so equal instances share new flows. A sample of a third-party policy: it lives in its own
 * jar and is found through {@link java.util.ServiceLoader} when the jar is on the class path of the
 * root (which then allocates a ServiceIP for it) and of the nodes (which choose with it).
 */
public final class LeastFlowsPolicy implements RoutingPolicy {
  public static final String NAME = "leastflows";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public InstanceSelector newSelector() {
    AtomicInteger rotation = new AtomicInteger();
    return (candidates, affinityKey, view) -> select(candidates, view, rotation.getAndIncrement());
  }

  private static int select(CandidateSet c, NodeView view, int rotation) {
    int n = c.size();
    int best = InstanceSelector.NONE;
    int bestFlows = Integer.MAX_VALUE;
    int start = n == 0 ? 0 : Math.floorMod(rotation, n);
    for (int i = 0; i < n; i++) {
      int idx = start + i < n ? start + i : start + i - n;
      InstanceRecord r = c.get(idx);
      if (!view.isAvailable(r)) {
        continue;
      }
      int flows = view.activeFlows(r.key());
      if (flows < bestFlows) {
        best = idx;
        bestFlows = flows;
      }
    }
    return best;
  }
}
