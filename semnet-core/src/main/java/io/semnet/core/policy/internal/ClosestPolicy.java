package io.semnet.core.policy.internal;

import io.semnet.core.policy.CandidateSet;
import io.semnet.core.policy.InstanceSelector;
import io.semnet.core.policy.NodeView;
import io.semnet.core.policy.PruningContext;
import io.semnet.core.policy.RoutingPolicy;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceRecord;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * {@code closest}: the available instance with the lowest measured RTT from this node (local
 * instances have RTT 0); if no RTT is known, the one nearest by location; ties go to the lower
 * index. For k-pruning, ranks by distance to the requester.
 *
 * <p>The choice depends only on the candidate set and the view's RTTs and peer states, so each
 * selector derives it once per (candidate set generation, view version) and answers every flow
 * from that (see {@code DerivingSelector}).
 */
public final class ClosestPolicy implements RoutingPolicy {
  public static final String NAME = "closest";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public InstanceSelector newSelector() {
    return new Selector();
  }

  private static final class Selector extends DerivingSelector.FixedChoice {
    @Override
    int scan(CandidateSet c, NodeView view) {
      return Closeness.nextClosest(c, view, Long.MIN_VALUE, -1);
    }
  }

  @Override
  public List<InstanceRecord> rankForPruning(List<InstanceRecord> instances, PruningContext requester) {
    return rankByDistance(instances, requester);
  }

  static List<InstanceRecord> rankByDistance(List<InstanceRecord> instances, PruningContext requester) {
    GeoPoint here = requester == null ? null : requester.location();
    if (here == null) {
      return instances;
    }
    List<InstanceRecord> sorted = new ArrayList<>(instances);
    sorted.sort(Comparator.comparingDouble(r -> {
      GeoPoint there = r.metadata().location();
      return there == null ? Double.MAX_VALUE : here.distanceKm(there);
    }));
    return sorted;
  }
}
