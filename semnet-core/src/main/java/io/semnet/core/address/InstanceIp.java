package io.semnet.core.address;

import io.semnet.core.service.ServiceId;
import java.net.InetAddress;
import java.util.Objects;

/**
 * An InstanceIP: the virtual address of one instance of a service, fixed for the instance's whole
 * life, also across migration. Immutable.
 */
public final class InstanceIp implements VirtualIp {
  private final ServiceId service;
  private final int ordinal;
  private final InetAddress address;

  private InstanceIp(ServiceId service, int ordinal, InetAddress address) {
    if (ordinal < 0) {
      throw new IllegalArgumentException("ordinal must be >= 0, got " + ordinal);
    }
    this.service = Objects.requireNonNull(service, "service");
    this.ordinal = ordinal;
    this.address = Objects.requireNonNull(address, "address");
  }

  public static InstanceIp of(ServiceId service, int ordinal, InetAddress address) {
    return new InstanceIp(service, ordinal, address);
  }

  @Override
  public ServiceId service() {
    return service;
  }

  public int ordinal() {
    return ordinal;
  }

  @Override
  public InetAddress address() {
    return address;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof InstanceIp)) {
      return false;
    }
    InstanceIp s = (InstanceIp) o;
    return ordinal == s.ordinal && service.equals(s.service) && address.equals(s.address);
  }

  @Override
  public int hashCode() {
    return Objects.hash(service, ordinal, address);
  }

  @Override
  public String toString() {
    return "InstanceIp{" + service + " #" + ordinal + " " + Addresses.format(address) + "}";
  }
}
