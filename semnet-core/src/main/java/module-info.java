/**
 * SemNet's core: service ids and semantic names, address kinds, the address plan and allocators,
 * service records, namespace isolation, root trust, the routing-policy SPI and the small interfaces
 * the layers of a node meet at.
 *
 * <p>Every exported package is public API. The built-in policies live in
 * {@code io.semnet.core.policy.internal} and are reached through
 * {@link io.semnet.core.policy.RoutingPolicyRegistry}; only the benchmarks may see them directly.
 */
module io.semnet.core {
  requires org.slf4j;

  exports io.semnet.core.address;
  exports io.semnet.core.isolation;
  exports io.semnet.core.node;
  exports io.semnet.core.plan;
  exports io.semnet.core.policy;
  exports io.semnet.core.record;
  exports io.semnet.core.route;
  exports io.semnet.core.service;
  exports io.semnet.core.stats;
  exports io.semnet.core.trust;
  exports io.semnet.core.policy.internal to io.semnet.bench;

  uses io.semnet.core.policy.RoutingPolicyProvider;

  provides io.semnet.core.policy.RoutingPolicyProvider with
      io.semnet.core.policy.internal.BuiltinPolicies.RoundRobin,
      io.semnet.core.policy.internal.BuiltinPolicies.Closest,
      io.semnet.core.policy.internal.BuiltinPolicies.HighestCapacity,
      io.semnet.core.policy.internal.BuiltinPolicies.ClosestHighestCapacity,
      io.semnet.core.policy.internal.BuiltinPolicies.Fastest,
      io.semnet.core.policy.internal.BuiltinPolicies.Sticky;
}
