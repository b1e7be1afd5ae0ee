package io.semnet.core.isolation;

import io.semnet.core.service.ServiceId;
import java.util.Objects;

/**
 * Permission for services matching {@link #from()} to reach services matching {@link #to()}; one
 * direction only (replies of an allowed flow always pass). Immutable.
 */
public final class Grant {
  private final ServiceSelector from;
  private final ServiceSelector to;

  private Grant(ServiceSelector from, ServiceSelector to) {
    this.from = Objects.requireNonNull(from, "from");
    this.to = Objects.requireNonNull(to, "to");
  }

  public static Grant of(ServiceSelector from, ServiceSelector to) {
    return new Grant(from, to);
  }

  public ServiceSelector from() {
    return from;
  }

  public ServiceSelector to() {
    return to;
  }

  public boolean allows(ServiceId source, ServiceId destination) {
    return from.matches(source) && to.matches(destination);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Grant && ((Grant) o).from.equals(from) && ((Grant) o).to.equals(to);
  }

  @Override
  public int hashCode() {
    return from.hashCode() * 31 + to.hashCode();
  }

  @Override
  public String toString() {
    return from + " -> " + to;
  }
}
