package io.semnet.samples.policy;

import static io.semnet.testing.Fixtures.instance;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.policy.CandidateSet;
import io.semnet.core.policy.InstanceSelector;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.policy.RoutingPolicyRegistry;
import org.junit.jupiter.api.Test;

class LeastFlowsPolicyTest {
  @Test
  void isDiscoveredAndPicksTheLeastLoaded() {
    RoutingPolicyRegistry registry = RoutingPolicyRegistry.getDefaultRegistry();
    assertTrue(registry.contains("leastflows"), registry.policyNames().toString());
    CandidateSet c = CandidateSet.of(1, instance(0, "a", 1, null), instance(1, "b", 1, null), instance(2, "c", 1, null));
    LocalNodeView view = new LocalNodeView("here", null);
    view.flowOpened(c.get(0).key());
    view.flowOpened(c.get(0).key());
    view.flowOpened(c.get(2).key());
    InstanceSelector s = registry.policy("leastflows").newSelector();
    assertEquals(1, s.select(c, 0, view));
    view.flowOpened(c.get(1).key());
    int second = s.select(c, 0, view);
    assertTrue(second == 1 || second == 2, "ties between the least loaded");
  }
}
