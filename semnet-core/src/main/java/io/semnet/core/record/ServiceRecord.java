package io.semnet.core.record;

import io.semnet.core.address.ServiceIp;
import io.semnet.core.service.ServiceId;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Everything a service manager holds about one service (thesis tables 3.1 to 3.3): its identity,
 * its ServiceIPs (one per policy and address family), and its instances with their InstanceIPs,
 * locators and metadata. The version is stamped by the root, the one authority for records, so
 * any two versions of a record are ordered and a node never applies an older one over a newer one.
 *
 * <p>Immutable: lists are copied on construction and instances are kept sorted by ordinal.
 */
public final class ServiceRecord {
  private final ServiceId service;
  private final long version;
  private final List<ServiceIp> serviceIps;
  private final List<InstanceRecord> instances;

  private ServiceRecord(ServiceId service, long version, List<ServiceIp> serviceIps, List<InstanceRecord> instances) {
    this.service = Objects.requireNonNull(service, "service");
    if (version < 0) {
      throw new IllegalArgumentException("version must be >= 0, got " + version);
    }
    this.version = version;
    List<ServiceIp> ips = List.copyOf(serviceIps);
    for (ServiceIp ip : ips) {
      if (!ip.service().equals(service)) {
        throw new IllegalArgumentException(ip + " does not belong to " + service);
      }
    }
    List<InstanceRecord> sorted = new ArrayList<>(instances);
    sorted.sort(Comparator.comparingInt(InstanceRecord::ordinal));
    for (int i = 0; i < sorted.size(); i++) {
      InstanceRecord r = sorted.get(i);
      if (!r.service().equals(service)) {
        throw new IllegalArgumentException(r.key() + " does not belong to " + service);
      }
      if (i > 0 && sorted.get(i - 1).ordinal() == r.ordinal()) {
        throw new IllegalArgumentException("duplicate instance ordinal " + r.ordinal() + " in " + service);
      }
    }
    this.serviceIps = ips;
    this.instances = Collections.unmodifiableList(sorted);
  }

  public static ServiceRecord of(ServiceId service, long version, List<ServiceIp> serviceIps, List<InstanceRecord> instances) {
    return new ServiceRecord(service, version, serviceIps, instances);
  }

  public ServiceId service() {
    return service;
  }

  /** Version stamped by the root; higher is newer. */
  public long version() {
    return version;
  }

  public List<ServiceIp> serviceIps() {
    return serviceIps;
  }

  /** Instances sorted by ordinal. */
  public List<InstanceRecord> instances() {
    return instances;
  }

  /** The ServiceIP for {@code policy} of the given family, or null. */
  public ServiceIp serviceIp(String policy, boolean ipv4) {
    for (ServiceIp ip : serviceIps) {
      if (ip.policy().equals(policy) && (ip.address() instanceof Inet4Address) == ipv4) {
        return ip;
      }
    }
    return null;
  }

  /** The ServiceIP with this address, or null. */
  public ServiceIp serviceIpFor(InetAddress address) {
    for (ServiceIp ip : serviceIps) {
      if (ip.address().equals(address)) {
        return ip;
      }
    }
    return null;
  }

  /** The instance with this ordinal, or null. */
  public InstanceRecord instance(int ordinal) {
    for (InstanceRecord r : instances) {
      if (r.ordinal() == ordinal) {
        return r;
      }
    }
    return null;
  }

  /** The instance whose InstanceIP is {@code address}, or null. */
  public InstanceRecord instanceFor(InetAddress address) {
    for (InstanceRecord r : instances) {
      if ((r.instanceIpv4() != null && r.instanceIpv4().address().equals(address))
          || (r.instanceIpv6() != null && r.instanceIpv6().address().equals(address))) {
        return r;
      }
    }
    return null;
  }

  /** A copy with the instance of the same ordinal replaced (or added), at {@code newVersion}. */
  public ServiceRecord withInstance(InstanceRecord instance, long newVersion) {
    List<InstanceRecord> list = new ArrayList<>(instances.size() + 1);
    for (InstanceRecord r : instances) {
      if (r.ordinal() != instance.ordinal()) {
        list.add(r);
      }
    }
    list.add(instance);
    return new ServiceRecord(service, newVersion, serviceIps, list);
  }

  /** A copy without the instance of that ordinal, at {@code newVersion}. */
  public ServiceRecord withoutInstance(int ordinal, long newVersion) {
    List<InstanceRecord> list = new ArrayList<>(instances);
    list.removeIf(r -> r.ordinal() == ordinal);
    return new ServiceRecord(service, newVersion, serviceIps, list);
  }

  /** A copy with a different instance list (e.g. after k-pruning), same version. */
  public ServiceRecord withInstances(List<InstanceRecord> newInstances) {
    return new ServiceRecord(service, version, serviceIps, newInstances);
  }

  /** True if this record is newer than {@code other} (or other is null). */
  public boolean isNewerThan(ServiceRecord other) {
    return other == null || version > other.version;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof ServiceRecord)) {
      return false;
    }
    ServiceRecord r = (ServiceRecord) o;
    return version == r.version && service.equals(r.service) && serviceIps.equals(r.serviceIps) && instances.equals(r.instances);
  }

  @Override
  public int hashCode() {
    return Objects.hash(service, version, serviceIps, instances);
  }

  @Override
  public String toString() {
    return "ServiceRecord{" + service + " v" + version + " ips=" + serviceIps + " instances=" + instances + "}";
  }
}
