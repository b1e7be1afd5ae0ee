package io.semnet.core.address;

import io.semnet.core.service.ServiceId;
import java.net.InetAddress;
import java.util.Locale;
import java.util.Objects;

/**
 * A ServiceIP: the virtual address of a service through one routing policy. Sending to it means
 * "any instance, chosen by {@link #policy()}". A dual-stack service has one IPv4 and one IPv6
 * ServiceIP per policy. Immutable.
 */
public final class ServiceIp implements VirtualIp {
  private final ServiceId service;
  private final String policy;
  private final InetAddress address;

  private ServiceIp(ServiceId service, String policy, InetAddress address) {
    this.service = Objects.requireNonNull(service, "service");
    this.policy = Objects.requireNonNull(policy, "policy").toLowerCase(Locale.ROOT);
    this.address = Objects.requireNonNull(address, "address");
  }

  public static ServiceIp of(ServiceId service, String policy, InetAddress address) {
    return new ServiceIp(service, policy, address);
  }

  @Override
  public ServiceId service() {
    return service;
  }

  /** Name of the routing policy that chooses the instance for each new flow. */
  public String policy() {
    return policy;
  }

  @Override
  public InetAddress address() {
    return address;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof ServiceIp)) {
      return false;
    }
    ServiceIp s = (ServiceIp) o;
    return service.equals(s.service) && policy.equals(s.policy) && address.equals(s.address);
  }

  @Override
  public int hashCode() {
    return Objects.hash(service, policy, address);
  }

  @Override
  public String toString() {
    return "ServiceIp{" + service + " " + policy + " " + Addresses.format(address) + "}";
  }
}
