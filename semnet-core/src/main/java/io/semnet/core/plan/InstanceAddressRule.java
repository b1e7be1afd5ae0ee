package io.semnet.core.plan;

import io.semnet.core.address.Addresses;
import java.math.BigInteger;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * A deployment descriptor's rule for InstanceIPs: ordinals {@code from..to} (inclusive) get
 * consecutive addresses starting at {@code addressFrom} (per family). Ordinals outside the rule get
 * any free address. Immutable.
 */
public final class InstanceAddressRule {
  /** No rule: every instance gets any free address. */
  public static final InstanceAddressRule NONE = new InstanceAddressRule(0, -1, null, null);

  private final int fromOrdinal;
  private final int toOrdinal;
  private final InetAddress ipv4From;
  private final InetAddress ipv6From;

  private InstanceAddressRule(int fromOrdinal, int toOrdinal, InetAddress ipv4From, InetAddress ipv6From) {
    this.fromOrdinal = fromOrdinal;
    this.toOrdinal = toOrdinal;
    this.ipv4From = ipv4From;
    this.ipv6From = ipv6From;
  }

  /**
   * @param ipv4From first IPv4 address, or null to leave IPv4 free
   * @param ipv6From first IPv6 address, or null to leave IPv6 free
   */
  public static InstanceAddressRule of(int fromOrdinal, int toOrdinal, InetAddress ipv4From, InetAddress ipv6From) {
    if (fromOrdinal < 0 || toOrdinal < fromOrdinal) {
      throw new IllegalArgumentException("instance rule needs 0 <= from <= to, got " + fromOrdinal + ".." + toOrdinal);
    }
    if (ipv4From != null && !(ipv4From instanceof Inet4Address)) {
      throw new IllegalArgumentException("ipv4From is not IPv4: " + ipv4From);
    }
    if (ipv6From != null && !(ipv6From instanceof Inet6Address)) {
      throw new IllegalArgumentException("ipv6From is not IPv6: " + ipv6From);
    }
    if (ipv4From == null && ipv6From == null) {
      throw new IllegalArgumentException("instance rule needs a first address");
    }
    return new InstanceAddressRule(fromOrdinal, toOrdinal, ipv4From, ipv6From);
  }

  public int fromOrdinal() {
    return fromOrdinal;
  }

  public int toOrdinal() {
    return toOrdinal;
  }

  public InetAddress ipv4From() {
    return ipv4From;
  }

  public InetAddress ipv6From() {
    return ipv6From;
  }

  public boolean covers(int ordinal) {
    return ordinal >= fromOrdinal && ordinal <= toOrdinal;
  }

  /** The address the rule gives {@code ordinal} in the family, or null if the rule does not cover it. */
  public InetAddress addressFor(int ordinal, boolean ipv4) {
    InetAddress base = ipv4 ? ipv4From : ipv6From;
    if (base == null || !covers(ordinal)) {
      return null;
    }
    BigInteger v = new BigInteger(1, base.getAddress()).add(BigInteger.valueOf(ordinal - fromOrdinal));
    int len = ipv4 ? 4 : 16;
    if (v.bitLength() > len * 8) {
      throw new IllegalArgumentException("instance rule runs past the end of the address space");
    }
    byte[] raw = v.toByteArray();
    byte[] out = new byte[len];
    int copy = Math.min(raw.length, len);
    System.arraycopy(raw, raw.length - copy, out, len - copy, copy);
    return Addresses.byAddress(out);
  }

  @Override
  public String toString() {
    return this == NONE ? "InstanceAddressRule{none}" : "InstanceAddressRule{" + fromOrdinal + ".." + toOrdinal
        + (ipv4From == null ? "" : " v4 from " + Addresses.format(ipv4From))
        + (ipv6From == null ? "" : " v6 from " + Addresses.format(ipv6From)) + "}";
  }
}
