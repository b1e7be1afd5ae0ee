package io.semnet.core.record;

import io.semnet.core.address.InstanceIp;
import io.semnet.core.service.ServiceId;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Objects;

/**
 * One instance of a service as the service managers know it: its ordinal, its InstanceIP(s), where
 * it currently is ({@link Locator}, null until placed), and metadata for routing policies.
 * Immutable; "with" methods return modified copies.
 */
public final class InstanceRecord {
  private final InstanceKey key;
  private final InstanceIp instanceIpv4;
  private final InstanceIp instanceIpv6;
  private final Locator locator;
  private final InstanceMetadata metadata;

  private InstanceRecord(InstanceKey key, InstanceIp v4, InstanceIp v6, Locator locator, InstanceMetadata metadata) {
    if (v4 == null && v6 == null) {
      throw new IllegalArgumentException("instance " + key + " needs an IPv4 or IPv6 InstanceIP");
    }
    check(key, v4, Inet4Address.class);
    check(key, v6, Inet6Address.class);
    this.key = key;
    this.instanceIpv4 = v4;
    this.instanceIpv6 = v6;
    this.locator = locator;
    this.metadata = Objects.requireNonNull(metadata, "metadata");
  }

  private static void check(InstanceKey key, InstanceIp ip, Class<?> family) {
    if (ip == null) {
      return;
    }
    if (!family.isInstance(ip.address())) {
      throw new IllegalArgumentException("InstanceIP " + ip + " has the wrong address family");
    }
    if (!ip.service().equals(key.service()) || ip.ordinal() != key.ordinal()) {
      throw new IllegalArgumentException("InstanceIP " + ip + " does not belong to " + key);
    }
  }

  /**
   * @param instanceIpv4 IPv4 InstanceIP address or null
   * @param instanceIpv6 IPv6 InstanceIP address or null (at least one)
   * @param locator current place or null if not yet placed
   */
  public static InstanceRecord of(
      ServiceId service, int ordinal, InetAddress instanceIpv4, InetAddress instanceIpv6,
      Locator locator, InstanceMetadata metadata) {
    return new InstanceRecord(
        InstanceKey.of(service, ordinal),
        instanceIpv4 == null ? null : InstanceIp.of(service, ordinal, instanceIpv4),
        instanceIpv6 == null ? null : InstanceIp.of(service, ordinal, instanceIpv6),
        locator, metadata);
  }

  public InstanceKey key() {
    return key;
  }

  public ServiceId service() {
    return key.service();
  }

  public int ordinal() {
    return key.ordinal();
  }

  /** The IPv4 InstanceIP, or null. */
  public InstanceIp instanceIpv4() {
    return instanceIpv4;
  }

  /** The IPv6 InstanceIP, or null. */
  public InstanceIp instanceIpv6() {
    return instanceIpv6;
  }

  /** The InstanceIP of the given family, or null. */
  public InstanceIp instanceIp(boolean ipv4) {
    return ipv4 ? instanceIpv4 : instanceIpv6;
  }

  /** Where the instance is, or null if not yet placed. */
  public Locator locator() {
    return locator;
  }

  public InstanceMetadata metadata() {
    return metadata;
  }

  /**
   * True if a flow of the given family can reach this instance: it is placed and has a namespace
   * address of that family (there is no 4-to-6 translation).
   */
  public boolean reachableOver(boolean ipv4) {
    return locator != null && locator.namespaceIp(ipv4) != null;
  }

  public InstanceRecord withLocator(Locator newLocator) {
    return new InstanceRecord(key, instanceIpv4, instanceIpv6, newLocator, metadata);
  }

  public InstanceRecord withMetadata(InstanceMetadata newMetadata) {
    return new InstanceRecord(key, instanceIpv4, instanceIpv6, locator, newMetadata);
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof InstanceRecord)) {
      return false;
    }
    InstanceRecord r = (InstanceRecord) o;
    return key.equals(r.key)
        && Objects.equals(instanceIpv4, r.instanceIpv4)
        && Objects.equals(instanceIpv6, r.instanceIpv6)
        && Objects.equals(locator, r.locator)
        && metadata.equals(r.metadata);
  }

  @Override
  public int hashCode() {
    return Objects.hash(key, instanceIpv4, instanceIpv6, locator, metadata);
  }

  @Override
  public String toString() {
    return "InstanceRecord{" + key + " v4=" + instanceIpv4 + " v6=" + instanceIpv6 + " " + locator + " " + metadata + "}";
  }
}
