package io.semnet.core.record;

import java.util.Objects;

/**
 * What routing policies know about an instance from the service managers: where its node is,
 * how much capacity it has left (higher is better, in arbitrary but platform-consistent units),
 * and its zone. Immutable.
 */
public final class InstanceMetadata {
  /** No location, zero capacity, no zone. */
  public static final InstanceMetadata NONE = new InstanceMetadata(null, 0.0, "");

  private final GeoPoint location;
  private final double capacity;
  private final String zone;

  private InstanceMetadata(GeoPoint location, double capacity, String zone) {
    if (!(capacity >= 0) || Double.isInfinite(capacity)) {
      throw new IllegalArgumentException("capacity must be finite and >= 0, got " + capacity);
    }
    this.location = location;
    this.capacity = capacity;
    this.zone = Objects.requireNonNull(zone, "zone");
  }

  /**
   * @param location node location or null if unknown
   * @param capacity free capacity, finite and non-negative
   * @param zone zone name, empty if none
   */
  public static InstanceMetadata of(GeoPoint location, double capacity, String zone) {
    return new InstanceMetadata(location, capacity, zone);
  }

  /** The node's location, or null if unknown. */
  public GeoPoint location() {
    return location;
  }

  public double capacity() {
    return capacity;
  }

  public String zone() {
    return zone;
  }

  public InstanceMetadata withCapacity(double newCapacity) {
    return new InstanceMetadata(location, newCapacity, zone);
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof InstanceMetadata)) {
      return false;
    }
    InstanceMetadata m = (InstanceMetadata) o;
    return Double.compare(capacity, m.capacity) == 0 && Objects.equals(location, m.location) && zone.equals(m.zone);
  }

  @Override
  public int hashCode() {
    return Objects.hash(location, capacity, zone);
  }

  @Override
  public String toString() {
    return "InstanceMetadata{location=" + location + ", capacity=" + capacity + ", zone=" + zone + "}";
  }
}
