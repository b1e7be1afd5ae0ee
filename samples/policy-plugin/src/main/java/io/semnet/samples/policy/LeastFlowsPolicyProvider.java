package io.semnet.samples.policy;

import io.semnet.core.policy.RoutingPolicy;
import io.semnet.core.policy.RoutingPolicyProvider;

/** Registers {@link LeastFlowsPolicy} through {@code META-INF/services}. */
public final class LeastFlowsPolicyProvider extends RoutingPolicyProvider {
  private static final RoutingPolicy POLICY = new LeastFlowsPolicy();

  @Override
  public String policyName() {
    return LeastFlowsPolicy.NAME;
  }

  @Override
  public RoutingPolicy newPolicy() {
    return POLICY;
  }
}
