package io.semnet.control.internal;

import io.semnet.core.policy.PruningContext;
import io.semnet.core.policy.RoutingPolicy;
import io.semnet.core.policy.RoutingPolicyRegistry;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.address.ServiceIp;
import io.semnet.resolver.protocol.SignedRecord;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * k-pruning: before a record goes to a worker, keeps only the {@code k} instances each of the
 * record's policies ranks most relevant for that worker, plus every instance the worker asked for
 * by ordinal. A pruned record keeps the root's signature over the whole record. Thread-safe.
 */
public final class Pruner {
  private final RoutingPolicyRegistry registry;
  private final int k;
  private final Map<String, RoutingPolicy> policies = new ConcurrentHashMap<>();

  /** @param k instances kept per policy; 0 or less keeps everything */
  public Pruner(RoutingPolicyRegistry registry, int k) {
    this.registry = registry;
    this.k = k;
  }

  /**
   * @param mustKeep an ordinal to keep whatever the ranking (-1: none)
   * @param asked ordinals the client asked for earlier, all kept
   * @return {@code sr} itself when it has no more than k instances, else the pruned record
   */
  public SignedRecord prune(SignedRecord sr, String clientId, GeoPoint location, int mustKeep, Set<Integer> asked) {
    List<InstanceRecord> all = sr.record().instances();
    if (k <= 0 || all.size() <= k) {
      return sr;
    }
    PruningContext ctx = PruningContext.of(clientId, location);
    Map<Integer, InstanceRecord> keep = new LinkedHashMap<>();
    Set<String> seen = new HashSet<>();
    for (ServiceIp ip : sr.record().serviceIps()) {
      if (!seen.add(ip.policy())) {
        continue;
      }
      RoutingPolicy p = policy(ip.policy());
      List<InstanceRecord> ranked = p == null ? all : p.rankForPruning(all, ctx);
      for (int i = 0; i < Math.min(k, ranked.size()); i++) {
        keep.put(ranked.get(i).ordinal(), ranked.get(i));
      }
    }
    if (mustKeep >= 0 && sr.record().instance(mustKeep) != null) {
      keep.put(mustKeep, sr.record().instance(mustKeep));
    }
    for (int o : asked) {
      InstanceRecord r = sr.record().instance(o);
      if (r != null) {
        keep.put(o, r);
      }
    }
    return sr.pruned(new ArrayList<>(keep.values()));
  }

  private RoutingPolicy policy(String name) {
    RoutingPolicy p = policies.get(name);
    if (p == null && registry.contains(name)) {
      p = registry.policy(name);
      policies.put(name, p);
    }
    return p;
  }
}
