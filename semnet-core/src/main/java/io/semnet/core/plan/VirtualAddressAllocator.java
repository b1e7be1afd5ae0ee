package io.semnet.core.plan;

import io.semnet.core.address.Addresses;
import io.semnet.core.address.InstanceIp;
import io.semnet.core.address.IpPrefix;
import io.semnet.core.address.ServiceIp;
import io.semnet.core.service.ServiceId;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Allocates ServiceIPs (one per policy and family) and InstanceIPs out of the plan's virtual ranges,
 * honouring addresses pinned by a deployment descriptor and {@link InstanceAddressRule}s. Used by the
 * root, the one allocation authority. Every operation is all-or-nothing: on failure it throws
 * {@link AllocationException} and nothing stays allocated. Thread-safe.
 */
public final class VirtualAddressAllocator {
  private final PrefixAllocator ipv4;
  private final PrefixAllocator ipv6;

  public VirtualAddressAllocator(AddressPlan plan, Clock clock) {
    this.ipv4 = plan.ipv4() == null ? null : plan.newVirtualAddressPool(true, clock);
    this.ipv6 = plan.ipv6() == null ? null : plan.newVirtualAddressPool(false, clock);
  }

  /** The IPv4 pool (for persistence), or null. */
  public PrefixAllocator ipv4Pool() {
    return ipv4;
  }

  /** The IPv6 pool (for persistence), or null. */
  public PrefixAllocator ipv6Pool() {
    return ipv6;
  }

  /**
   * Allocates the ServiceIPs of a service: for each policy, one address per family the plan has.
   *
   * @param pinned addresses the descriptor fixes, by policy (any family; unpinned ones are allocated)
   */
  public synchronized List<ServiceIp> allocateServiceIps(
      ServiceId service, Collection<String> policies, Map<String, List<InetAddress>> pinned) {
    Objects.requireNonNull(service, "service");
    for (String policy : pinned.keySet()) {
      if (!policies.contains(policy)) {
        throw new AllocationException("address pinned for policy '" + policy + "', which the platform does not offer " + policies);
      }
    }
    List<IpPrefix> taken = new ArrayList<>();
    List<ServiceIp> out = new ArrayList<>();
    try {
      for (String policy : policies) {
        List<InetAddress> pins = pinned.getOrDefault(policy, List.of());
        for (boolean v4 : new boolean[] {true, false}) {
          PrefixAllocator pool = v4 ? ipv4 : ipv6;
          InetAddress pin = pinOfFamily(pins, v4, policy);
          if (pool == null) {
            if (pin != null) {
              throw new AllocationException("pinned " + Addresses.format(pin) + " but the plan has no " + (v4 ? "IPv4" : "IPv6"));
            }
            continue;
          }
          IpPrefix p = pin != null ? pool.allocateAddress(pin) : pool.allocate();
          taken.add(p);
          out.add(ServiceIp.of(service, policy, p.network()));
        }
      }
      return List.copyOf(out);
    } catch (RuntimeException e) {
      rollback(taken);
      throw e;
    }
  }

  private static InetAddress pinOfFamily(List<InetAddress> pins, boolean v4, String policy) {
    InetAddress found = null;
    for (InetAddress a : pins) {
      if ((a instanceof Inet4Address) == v4) {
        if (found != null) {
          throw new AllocationException("two " + (v4 ? "IPv4" : "IPv6") + " addresses pinned for policy '" + policy + "'");
        }
        found = a;
      }
    }
    return found;
  }

  /**
   * Allocates the InstanceIPs (one per family) of instance {@code ordinal}: the rule's address if the
   * rule covers the ordinal, else any free one.
   *
   * @return the addresses, IPv4 first; an entry is absent for a family the plan lacks
   */
  public synchronized List<InstanceIp> allocateInstanceIps(ServiceId service, int ordinal, InstanceAddressRule rule) {
    List<IpPrefix> taken = new ArrayList<>();
    List<InstanceIp> out = new ArrayList<>(2);
    try {
      for (boolean v4 : new boolean[] {true, false}) {
        PrefixAllocator pool = v4 ? ipv4 : ipv6;
        InetAddress wanted = rule.addressFor(ordinal, v4);
        if (pool == null) {
          if (wanted != null) {
            throw new AllocationException("instance rule gives an " + (v4 ? "IPv4" : "IPv6") + " address but the plan has none");
          }
          continue;
        }
        IpPrefix p = wanted != null ? pool.allocateAddress(wanted) : pool.allocate();
        taken.add(p);
        out.add(InstanceIp.of(service, ordinal, p.network()));
      }
      return List.copyOf(out);
    } catch (RuntimeException e) {
      rollback(taken);
      throw e;
    }
  }

  /** Releases an address into quarantine. */
  public synchronized void release(InetAddress address) {
    PrefixAllocator pool = address instanceof Inet4Address ? ipv4 : ipv6;
    if (pool == null) {
      throw new AllocationException("no pool for " + Addresses.format(address));
    }
    pool.release(IpPrefix.of(address, pool.subLength()));
  }

  public synchronized boolean isAllocated(InetAddress address) {
    PrefixAllocator pool = address instanceof Inet4Address ? ipv4 : ipv6;
    return pool != null && pool.isAllocated(IpPrefix.of(address, pool.subLength()));
  }

  private void rollback(List<IpPrefix> taken) {
    for (IpPrefix p : taken) {
      (p.isIpv4() ? ipv4 : ipv6).rollback(p);
    }
  }
}
