package io.semnet.control;

import io.semnet.core.policy.InstanceSelector;
import io.semnet.core.policy.PruningContext;
import io.semnet.core.policy.RoutingPolicy;
import io.semnet.core.policy.RoutingPolicyProvider;
import io.semnet.core.policy.RoutingPolicyRegistry;
import io.semnet.core.record.InstanceRecord;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Two tiny policies for tests: "first" (no pruning preference) and "near" (ranks by distance to the requester). */
public final class TestPolicies {
  private TestPolicies() {}

  public static RoutingPolicyRegistry registry() {
    RoutingPolicyRegistry r = new RoutingPolicyRegistry();
    r.register(provider("first", false));
    r.register(provider("near", true));
    return r;
  }

  private static RoutingPolicyProvider provider(String name, boolean near) {
    RoutingPolicy policy = new RoutingPolicy() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public InstanceSelector newSelector() {
        return (candidates, key, view) -> candidates.size() == 0 ? InstanceSelector.NONE : 0;
      }

      @Override
      public List<InstanceRecord> rankForPruning(List<InstanceRecord> instances, PruningContext requester) {
        if (!near || requester.location() == null) {
          return instances;
        }
        List<InstanceRecord> out = new ArrayList<>(instances);
        out.sort(Comparator.comparingDouble(i -> i.metadata().location() == null ? Double.MAX_VALUE
            : i.metadata().location().distanceKm(requester.location())));
        return out;
      }
    };
    return new RoutingPolicyProvider() {
      @Override
      public String policyName() {
        return name;
      }

      @Override
      public RoutingPolicy newPolicy() {
        return policy;
      }
    };
  }
}
