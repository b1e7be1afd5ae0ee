package io.semnet.core.policy.internal;

import io.semnet.core.policy.RoutingPolicy;
import io.semnet.core.policy.RoutingPolicyProvider;

/**
 * The {@link RoutingPolicyProvider}s of the built-in policies, listed in
 * {@code META-INF/services/io.semnet.core.policy.RoutingPolicyProvider} so the default registry
 * finds them. A plugin replaces one by offering the same name with a higher priority.
 */
public final class BuiltinPolicies {
  private BuiltinPolicies() {}

  /** Provides {@link RoundRobinPolicy}. */
  public static final class RoundRobin extends RoutingPolicyProvider {
    private static final RoutingPolicy POLICY = new RoundRobinPolicy();

    @Override
    public String policyName() {
      return RoundRobinPolicy.NAME;
    }

    @Override
    public RoutingPolicy newPolicy() {
      return POLICY;
    }
  }

  /** Provides {@link ClosestPolicy}. */
  public static final class Closest extends RoutingPolicyProvider {
    private static final RoutingPolicy POLICY = new ClosestPolicy();

    @Override
    public String policyName() {
      return ClosestPolicy.NAME;
    }

    @Override
    public RoutingPolicy newPolicy() {
      return POLICY;
    }
  }

  /** Provides {@link HighestCapacityPolicy}. */
  public static final class HighestCapacity extends RoutingPolicyProvider {
    private static final RoutingPolicy POLICY = new HighestCapacityPolicy();

    @Override
    public String policyName() {
      return HighestCapacityPolicy.NAME;
    }

    @Override
    public RoutingPolicy newPolicy() {
      return POLICY;
    }
  }

  /** Provides {@link ClosestHighestCapacityPolicy} with the default k. */
  public static final class ClosestHighestCapacity extends RoutingPolicyProvider {
    private static final RoutingPolicy POLICY = new ClosestHighestCapacityPolicy();

    @Override
    public String policyName() {
      return ClosestHighestCapacityPolicy.NAME;
    }

    @Override
    public RoutingPolicy newPolicy() {
      return POLICY;
    }
  }

  /** Provides {@link FastestPolicy}. */
  public static final class Fastest extends RoutingPolicyProvider {
    private static final RoutingPolicy POLICY = new FastestPolicy();

    @Override
    public String policyName() {
      return FastestPolicy.NAME;
    }

    @Override
    public RoutingPolicy newPolicy() {
      return POLICY;
    }
  }

  /** Provides {@link StickyPolicy}. */
  public static final class Sticky extends RoutingPolicyProvider {
    private static final RoutingPolicy POLICY = new StickyPolicy();

    @Override
    public String policyName() {
      return StickyPolicy.NAME;
    }

    @Override
    public RoutingPolicy newPolicy() {
      return POLICY;
    }
  }
}
