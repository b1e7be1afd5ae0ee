package io.semnet.core.route;

import io.semnet.core.address.InstanceIp;
import io.semnet.core.address.ServiceIp;
import io.semnet.core.address.VirtualIp;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.ServiceRecord;
import java.util.Objects;

/**
 * What a virtual address leads to: the address itself (a {@link ServiceIp} with its policy or an
 * {@link InstanceIp}) and the service record (possibly k-pruned) holding the instances and their
 * locators. Immutable.
 */
public final class Route {
  private final VirtualIp target;
  private final ServiceRecord record;

  private Route(VirtualIp target, ServiceRecord record) {
    this.target = Objects.requireNonNull(target, "target");
    this.record = Objects.requireNonNull(record, "record");
    if (!target.service().equals(record.service())) {
      throw new IllegalArgumentException(target + " is not an address of " + record.service());
    }
  }

  public static Route of(VirtualIp target, ServiceRecord record) {
    return new Route(target, record);
  }

  public VirtualIp target() {
    return target;
  }

  public ServiceRecord record() {
    return record;
  }

  /** True if the target is a ServiceIP (a policy chooses the instance). */
  public boolean isServiceIp() {
    return target instanceof ServiceIp;
  }

  /** The policy name for a ServiceIP route. */
  public String policy() {
    if (!(target instanceof ServiceIp)) {
      throw new IllegalStateException(target + " is an InstanceIP, it has no policy");
    }
    return ((ServiceIp) target).policy();
  }

  /** For an InstanceIP route, the instance (null if it no longer exists in the record). */
  public InstanceRecord instance() {
    if (!(target instanceof InstanceIp)) {
      throw new IllegalStateException(target + " is a ServiceIP");
    }
    return record.instance(((InstanceIp) target).ordinal());
  }

  /** The same target over a newer record. */
  public Route withRecord(ServiceRecord newRecord) {
    return new Route(target, newRecord);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Route && ((Route) o).target.equals(target) && ((Route) o).record.equals(record);
  }

  @Override
  public int hashCode() {
    return target.hashCode() * 31 + record.hashCode();
  }

  @Override
  public String toString() {
    return "Route{" + target + " -> " + record + "}";
  }
}
