package io.semnet.core.record;

import io.semnet.core.service.ServiceId;
import java.util.Objects;

/**
 * Identity of one instance: (service, ordinal). Stable for the instance's life, also across
 * migration; the key under which a node keeps per-instance measurements. Immutable.
 */
public final class InstanceKey {
  private final ServiceId service;
  private final int ordinal;
  private final int hash;

  private InstanceKey(ServiceId service, int ordinal) {
    this.service = Objects.requireNonNull(service, "service");
    if (ordinal < 0) {
      throw new IllegalArgumentException("ordinal must be >= 0, got " + ordinal);
    }
    this.ordinal = ordinal;
    this.hash = service.hashCode() * 31 + ordinal;
  }

  public static InstanceKey of(ServiceId service, int ordinal) {
    return new InstanceKey(service, ordinal);
  }

  public ServiceId service() {
    return service;
  }

  public int ordinal() {
    return ordinal;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    return o instanceof InstanceKey
        && ((InstanceKey) o).hash == hash
        && ((InstanceKey) o).ordinal == ordinal
        && ((InstanceKey) o).service.equals(service);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    return service + "#" + ordinal;
  }
}
