package io.semnet.control;

import io.semnet.resolver.NodeRegistration;
import io.semnet.core.address.Addresses;
import io.semnet.core.address.InstanceIp;
import io.semnet.core.address.IpPrefix;
import io.semnet.core.address.ServiceIp;
import io.semnet.core.plan.InstanceAddressRule;
import io.semnet.core.plan.PrefixAllocator;
import io.semnet.core.record.InstanceKey;
import io.semnet.core.record.InstanceMetadata;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.control.store.RootEvent;
import java.net.InetAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * {@link Orchestration}'s address and placement bookkeeping: checks that pinned addresses and
 * instance rules are free and inside the plan, allocates InstanceIPs, releases addresses into
 * quarantine, checks a placement against the node's registration and subnet, and indexes the
 * namespace IPs in use per node. Called only with Orchestration's lock held; holds no state itself.
 */
final class AddressBook {
  private final RootOrchestration o;

  AddressBook(RootOrchestration o) {
    this.o = o;
  }

  String whyNotFree(InetAddress a) {
    PrefixAllocator pool = a.getAddress().length == 4 ? o.virtual.ipv4Pool() : o.virtual.ipv6Pool();
    if (pool == null) {
      return "the plan has no " + (a.getAddress().length == 4 ? "IPv4" : "IPv6");
    }
    return pool.whyNotAvailable(IpPrefix.of(a, pool.subLength()));
  }

  void checkRule(ServiceId sid, InstanceAddressRule rule, int fromOrdinal, int toExclusive) {
    for (int o = fromOrdinal; o < toExclusive; o++) {
      for (boolean v4 : new boolean[] {true, false}) {
        InetAddress a;
        try {
          a = rule.addressFor(o, v4);
        } catch (IllegalArgumentException e) {
          throw new OrchestrationException("instance rule of " + sid + ": " + e.getMessage());
        }
        if (a == null) {
          continue;
        }
        String why = whyNotFree(a);
        if (why != null) {
          throw new OrchestrationException("InstanceIP " + Addresses.format(a) + " of " + sid + "#" + o + " from the instance rule: " + why);
        }
      }
    }
  }

  InstanceRecord newInstance(ServiceId sid, int ordinal, InstanceAddressRule rule) {
    List<InstanceIp> ips = o.virtual.allocateInstanceIps(sid, ordinal, rule);
    InetAddress v4 = null;
    InetAddress v6 = null;
    for (InstanceIp ip : ips) {
      if (ip.address().getAddress().length == 4) {
        v4 = ip.address();
      } else {
        v6 = ip.address();
      }
    }
    return InstanceRecord.of(sid, ordinal, v4, v6, null, InstanceMetadata.NONE);
  }

  /** Releases addresses into quarantine (and records that durably if {@code persist}). */
  void releaseAll(List<ServiceIp> ips, List<InstanceRecord> instances, boolean persist) {
    List<InetAddress> all = new ArrayList<>();
    ips.forEach(ip -> all.add(ip.address()));
    for (InstanceRecord i : instances) {
      if (i.instanceIpv4() != null) {
        all.add(i.instanceIpv4().address());
      }
      if (i.instanceIpv6() != null) {
        all.add(i.instanceIpv6().address());
      }
    }
    Instant until = o.clock.instant().plus(o.plan.quarantine());
    for (InetAddress a : all) {
      o.virtual.release(a);
      if (persist) {
        o.store.append(new RootEvent.Released(IpPrefix.of(a, a.getAddress().length * 8), until));
      }
    }
  }

  NodeRegistration checkPlacement(InstanceRecord i, Locator locator) {
    Objects.requireNonNull(locator, "locator");
    String nodeId = locator.worker().nodeId();
    NodeRegistration node = o.nodes.get(nodeId);
    if (node == null) {
      throw new OrchestrationException("node '" + nodeId + "' is not registered");
    }
    if (!node.endpoint().equals(locator.worker())) {
      throw new OrchestrationException("worker endpoint " + locator.worker() + " differs from the registration of node '"
          + nodeId + "' (" + node.endpoint() + ")");
    }
    if (locator.namespaceIpv4() != null && node.subnetV4() == null || locator.namespaceIpv6() != null && node.subnetV6() == null) {
      throw new OrchestrationException("locator of " + i.key() + " has an address family node '" + nodeId + "' has no subnet for");
    }
    Locator current = i.locator();
    checkNamespaceIp(node, locator.namespaceIpv4(), node.subnetV4(), i.key(), current == null ? null : current.namespaceIpv4());
    checkNamespaceIp(node, locator.namespaceIpv6(), node.subnetV6(), i.key(), current == null ? null : current.namespaceIpv6());
    return node;
  }

  ServiceRecord relocate(ServiceRecord r, InstanceRecord i, Locator locator, InstanceMetadata metadata) {
    NodeRegistration node = checkPlacement(i, locator);
    InstanceMetadata meta = metadata != null ? metadata
        : i.locator() == null ? InstanceMetadata.of(node.location(), 1.0, "") : i.metadata();
    long v = ++o.version;
    Locator current = i.locator();
    Locator placed = locator.withVersion(v);
    if (current != null && !current.worker().nodeId().equals(locator.worker().nodeId())) {
      // A move to another node: the signed record names the node left, which may forward the
      // instance's late packets and relay its replies for the migration linger (cryptokey routing).
      placed = placed.movedFrom(current.worker(), o.clock.millis());
    } else {
      placed = placed.movedFrom(null, 0);
    }
    InstanceRecord moved = i.withLocator(placed).withMetadata(meta);
    ServiceRecord n = r.withInstance(moved, v);
    o.publish(n);
    indexNamespace(i, false);
    indexNamespace(moved, true);
    return n;
  }

  void checkNamespaceIp(NodeRegistration node, InetAddress ns, IpPrefix subnet, InstanceKey who, InetAddress kept) {
    if (ns == null) {
      return;
    }
    boolean hostRoute = ns.equals(kept) && (subnet == null || !subnet.contains(ns));
    if (!hostRoute && (subnet == null || !subnet.contains(ns))) {
      throw new OrchestrationException("namespace IP " + Addresses.format(ns) + " of " + who + " is outside the subnet "
          + subnet + " of node '" + node.nodeId() + "'");
    }
    // A kept address lives on as a host route elsewhere: look at every node, not only this one.
    for (Map.Entry<String, Map<InetAddress, InstanceKey>> e : o.namespaceIps.entrySet()) {
      InstanceKey holder = e.getValue().get(ns);
      if (holder != null && !holder.equals(who)) {
        throw new OrchestrationException("namespace IP " + Addresses.format(ns) + " on node '" + node.nodeId()
            + "' is already used by " + holder + (e.getKey().equals(node.nodeId()) ? "" : " on node '" + e.getKey() + "'"));
      }
    }
  }

  void indexNamespace(InstanceRecord i, boolean add) {
    if (i.locator() == null) {
      return;
    }
    Map<InetAddress, InstanceKey> m = o.namespaceIps.computeIfAbsent(i.locator().worker().nodeId(), k -> new HashMap<>());
    for (InetAddress a : new InetAddress[] {i.locator().namespaceIpv4(), i.locator().namespaceIpv6()}) {
      if (a != null) {
        if (add) {
          m.put(a, i.key());
        } else {
          m.remove(a, i.key());
        }
      }
    }
  }
}
