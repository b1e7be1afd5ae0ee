package io.semnet.control;

import io.semnet.resolver.NodeRegistration;
import io.semnet.core.address.IpPrefix;
import io.semnet.core.address.ServiceIp;
import io.semnet.core.isolation.IsolationRules;
import io.semnet.core.plan.PrefixAllocator;
import io.semnet.core.record.InstanceRecord;
import io.semnet.resolver.protocol.SignedRules;
import io.semnet.control.store.RootState;
import io.semnet.control.store.RootStore;
import java.net.InetAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rebuilds {@link Orchestration}'s state from what the {@link io.semnet.control.store.RootStore}
 * kept after a restart: node registrations, cluster subnet pools (with their quarantine), services,
 * address rules and the record version counter, so nothing allocated before is handed out again.
 * Runs once, from Orchestration's constructor.
 */
final class RootRestore {
  private final RootOrchestration o;

  RootRestore(RootOrchestration o) {
    this.o = o;
  }

  // ---------------------------------------------------------------- restart

  void restore(RootState s) {
    Instant now = o.clock.instant();
    o.version = s.maxVersion();
    o.eventSequence = s.eventSequence();
    o.rules = SignedRules.sign(s.rules().version(), IsolationRules.of(s.rules().grants()), o.authority);
    o.revocations.restore(s.revocations());
    List<IpPrefix> virtual4 = new ArrayList<>();
    List<IpPrefix> virtual6 = new ArrayList<>();
    s.services().forEach((sid, put) -> {
      o.services.put(sid, put.record());
      o.addressRules.put(sid, put.rule());
      for (ServiceIp ip : put.record().serviceIps()) {
        addVirtual(ip.address(), virtual4, virtual6);
      }
      for (InstanceRecord i : put.record().instances()) {
        if (i.instanceIpv4() != null) {
          addVirtual(i.instanceIpv4().address(), virtual4, virtual6);
        }
        if (i.instanceIpv6() != null) {
          addVirtual(i.instanceIpv6().address(), virtual4, virtual6);
        }
        o.book.indexNamespace(i, true);
      }
    });
    Set<IpPrefix> allocated = new HashSet<>(virtual4);
    allocated.addAll(virtual6);
    s.nodes().values().forEach(n -> {
      o.nodes.put(n.nodeId(), n);
      o.clusterNodes.computeIfAbsent(n.clusterId(), k -> java.util.concurrent.ConcurrentHashMap.newKeySet()).add(n.nodeId());
      if (n.subnetV4() != null) {
        allocated.add(n.subnetV4());
      }
      if (n.subnetV6() != null) {
        allocated.add(n.subnetV6());
      }
    });
    restorePool(o.virtual.ipv4Pool(), virtual4, s.released(), allocated, now);
    restorePool(o.virtual.ipv6Pool(), virtual6, s.released(), allocated, now);
    List<IpPrefix> pools4 = new ArrayList<>();
    List<IpPrefix> pools6 = new ArrayList<>();
    s.pools().forEach((cluster, list) -> {
      for (IpPrefix pool : list) {
        (pool.isIpv4() ? pools4 : pools6).add(pool);
        PrefixAllocator a = o.plan.newNodeSubnetAllocator(pool, o.clock);
        List<IpPrefix> inPool = new ArrayList<>();
        for (NodeRegistration n : s.nodes().values()) {
          for (IpPrefix sub : new IpPrefix[] {n.subnetV4(), n.subnetV6()}) {
            if (sub != null && pool.contains(sub)) {
              inPool.add(sub);
            }
          }
        }
        restorePool(a, inPool, s.released(), allocated, now);
        o.clusterPools.computeIfAbsent(cluster, k -> new ArrayList<>()).add(a);
      }
    });
    if (o.poolsV4 != null) {
      o.poolsV4.restore(pools4, Map.of());
    }
    if (o.poolsV6 != null) {
      o.poolsV6.restore(pools6, Map.of());
    }
  }

  private static void addVirtual(InetAddress a, List<IpPrefix> v4, List<IpPrefix> v6) {
    IpPrefix p = IpPrefix.of(a, a.getAddress().length * 8);
    (p.isIpv4() ? v4 : v6).add(p);
  }

  private static void restorePool(PrefixAllocator pool, List<IpPrefix> live, Map<IpPrefix, Instant> released,
      Set<IpPrefix> allocated, Instant now) {
    if (pool == null) {
      return;
    }
    Map<IpPrefix, Instant> quarantined = new HashMap<>();
    released.forEach((p, until) -> {
      if (until.isAfter(now) && !allocated.contains(p) && p.length() == pool.subLength() && pool.range().contains(p)) {
        quarantined.put(p, until);
      }
    });
    pool.restore(live, quarantined);
  }
}
