package io.semnet.control;

import io.semnet.core.plan.InstanceAddressRule;
import io.semnet.core.service.ServiceId;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A deployment descriptor as the root needs it: the service, how many instances to create, the
 * ServiceIPs it pins (by policy; the rest are allocated) and the rule for InstanceIPs. Immutable.
 */
public final class ServiceDescriptor {
  private final ServiceId service;
  private final int instances;
  private final Map<String, List<InetAddress>> pinnedServiceIps;
  private final InstanceAddressRule instanceRule;

  private ServiceDescriptor(Builder b) {
    this.service = Objects.requireNonNull(b.service, "service");
    if (b.instances < 0) {
      throw new IllegalArgumentException("instances must be >= 0");
    }
    this.instances = b.instances;
    Map<String, List<InetAddress>> m = new HashMap<>();
    b.pinned.forEach((k, v) -> m.put(k, List.copyOf(v)));
    this.pinnedServiceIps = Map.copyOf(m);
    this.instanceRule = b.rule;
  }

  public static Builder builder(ServiceId service) {
    return new Builder(service);
  }

  public ServiceId service() {
    return service;
  }

  /** Instances to create at deployment (ordinals 0..n-1; unplaced until reported). */
  public int instances() {
    return instances;
  }

  /** ServiceIPs the descriptor fixes, by policy name. */
  public Map<String, List<InetAddress>> pinnedServiceIps() {
    return pinnedServiceIps;
  }

  public InstanceAddressRule instanceRule() {
    return instanceRule;
  }

  @Override
  public String toString() {
    return "ServiceDescriptor{" + service + " x" + instances + " pinned=" + pinnedServiceIps + " " + instanceRule + "}";
  }

  /** Builds a {@link ServiceDescriptor}. */
  public static final class Builder {
    private final ServiceId service;
    private int instances;
    private final Map<String, List<InetAddress>> pinned = new HashMap<>();
    private InstanceAddressRule rule = InstanceAddressRule.NONE;

    private Builder(ServiceId service) {
      this.service = service;
    }

    public Builder instances(int n) {
      this.instances = n;
      return this;
    }

    /** Pins the ServiceIP of {@code policy} (one per family). */
    public Builder pin(String policy, InetAddress address) {
      pinned.computeIfAbsent(policy.toLowerCase(Locale.ROOT), k -> new java.util.ArrayList<>()).add(address);
      return this;
    }

    public Builder instanceRule(InstanceAddressRule rule) {
      this.rule = Objects.requireNonNull(rule, "rule");
      return this;
    }

    public ServiceDescriptor build() {
      return new ServiceDescriptor(this);
    }
  }
}
