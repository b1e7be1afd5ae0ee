package io.semnet.core.policy;

import io.semnet.core.record.InstanceRecord;
import java.util.List;

/**
 * A routing policy: a name (used in semantic names and as the kind of a ServiceIP) and a factory of
 * per-ServiceIP {@link InstanceSelector}s. Implementations are thread-safe and usually stateless.
 *
 * <p>Researchers add policies by implementing this and a {@link RoutingPolicyProvider}, then
 * listing the provider in {@code META-INF/services/io.semnet.core.policy.RoutingPolicyProvider}.
 */
public interface RoutingPolicy {
  /** Lower-case DNS label naming the policy, e.g. {@code rr}. */
  String name();

  /** A fresh selector for one ServiceIP. */
  InstanceSelector newSelector();

  /**
   * Orders instances from most to least relevant for a requester, so that a service manager that
   * keeps only the k best per policy (k-pruning) keeps the ones this policy would choose. The
   * default expresses no preference and returns the list as given.
   *
   * @param instances the instances of a service
   * @param requester what is known about the asking node (its location), may be null
   */
  default List<InstanceRecord> rankForPruning(List<InstanceRecord> instances, PruningContext requester) {
    return instances;
  }
}
