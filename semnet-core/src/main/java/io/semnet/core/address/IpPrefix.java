package io.semnet.core.address;

import java.math.BigInteger;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/**
 * An IPv4 or IPv6 prefix ({@code 172.16.0.0/12}, {@code fd53:6e00::/48}). The network address is
 * normalised (host bits cleared). Immutable; addresses inside are counted by offset from the
 * network address.
 */
public final class IpPrefix implements Comparable<IpPrefix> {
  private final byte[] network;
  private final int length;

  private IpPrefix(byte[] network, int length) {
    this.network = network;
    this.length = length;
  }

  /** Parses {@code address/length}. */
  public static IpPrefix parse(String cidr) {
    Objects.requireNonNull(cidr, "cidr");
    int slash = cidr.indexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException("prefix '" + cidr + "' lacks '/length'");
    }
    InetAddress address = Addresses.parseLiteral(cidr.substring(0, slash));
    int length;
    try {
      length = Integer.parseInt(cidr.substring(slash + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("prefix '" + cidr + "' has a bad length", e);
    }
    return of(address, length);
  }

  /** The prefix of {@code length} bits containing {@code address}. */
  public static IpPrefix of(InetAddress address, int length) {
    byte[] bytes = address.getAddress();
    int bits = bytes.length * 8;
    if (length < 0 || length > bits) {
      throw new IllegalArgumentException("prefix length " + length + " outside 0.." + bits);
    }
    for (int i = 0; i < bytes.length; i++) {
      int keep = Math.max(0, Math.min(8, length - i * 8));
      bytes[i] &= (byte) (0xff << (8 - keep));
    }
    return new IpPrefix(bytes, length);
  }

  public boolean isIpv4() {
    return network.length == 4;
  }

  public int length() {
    return length;
  }

  /** Bits in an address of this family (32 or 128). */
  public int addressBits() {
    return network.length * 8;
  }

  public InetAddress network() {
    return toAddress(network);
  }

  /** Number of addresses in the prefix, saturated at {@link Long#MAX_VALUE}. */
  public long size() {
    int hostBits = addressBits() - length;
    return hostBits >= 63 ? Long.MAX_VALUE : 1L << hostBits;
  }

  public boolean contains(InetAddress address) {
    byte[] b = address.getAddress();
    if (b.length != network.length) {
      return false;
    }
    return prefixMatches(b, network, length);
  }

  /** True if this prefix contains all of {@code other}. */
  public boolean contains(IpPrefix other) {
    return other.network.length == network.length
        && other.length >= length
        && prefixMatches(other.network, network, length);
  }

  public boolean overlaps(IpPrefix other) {
    return contains(other) || other.contains(this);
  }

  /** The address at {@code offset} from the network address. */
  public InetAddress addressAt(long offset) {
    if (offset < 0 || offset >= size()) {
      throw new IllegalArgumentException("offset " + offset + " outside " + this);
    }
    BigInteger v = new BigInteger(1, network).add(BigInteger.valueOf(offset));
    return toAddress(toBytes(v, network.length));
  }

  /** The offset of {@code address} from the network address. */
  public long offsetOf(InetAddress address) {
    if (!contains(address)) {
      throw new IllegalArgumentException(Addresses.format(address) + " is outside " + this);
    }
    return new BigInteger(1, address.getAddress()).subtract(new BigInteger(1, network)).longValueExact();
  }

  /** The {@code index}-th sub-prefix of length {@code subLength}. */
  public IpPrefix subnet(long index, int subLength) {
    if (subLength < length || subLength > addressBits()) {
      throw new IllegalArgumentException("cannot cut /" + subLength + " out of " + this);
    }
    int extra = subLength - length;
    if (extra < 63 && (index < 0 || index >= (1L << extra))) {
      throw new IllegalArgumentException("subnet index " + index + " outside " + this + " cut into /" + subLength);
    }
    BigInteger v = new BigInteger(1, network).add(BigInteger.valueOf(index).shiftLeft(addressBits() - subLength));
    return new IpPrefix(toBytes(v, network.length), subLength);
  }

  /** Number of sub-prefixes of length {@code subLength}, saturated at {@link Long#MAX_VALUE}. */
  public long subnetCount(int subLength) {
    int extra = subLength - length;
    if (extra < 0) {
      return 0;
    }
    return extra >= 63 ? Long.MAX_VALUE : 1L << extra;
  }

  private static boolean prefixMatches(byte[] a, byte[] net, int len) {
    int full = len / 8;
    for (int i = 0; i < full; i++) {
      if (a[i] != net[i]) {
        return false;
      }
    }
    int rem = len % 8;
    if (rem == 0) {
      return true;
    }
    int mask = 0xff << (8 - rem);
    return (a[full] & mask) == (net[full] & mask);
  }

  private static byte[] toBytes(BigInteger v, int len) {
    byte[] raw = v.toByteArray();
    byte[] out = new byte[len];
    int copy = Math.min(raw.length, len);
    System.arraycopy(raw, raw.length - copy, out, len - copy, copy);
    return out;
  }

  private static InetAddress toAddress(byte[] b) {
    try {
      return InetAddress.getByAddress(b.clone());
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof IpPrefix
        && ((IpPrefix) o).length == length
        && java.util.Arrays.equals(((IpPrefix) o).network, network);
  }

  @Override
  public int hashCode() {
    return java.util.Arrays.hashCode(network) * 31 + length;
  }

  @Override
  public int compareTo(IpPrefix o) {
    if (network.length != o.network.length) {
      return Integer.compare(network.length, o.network.length);
    }
    int c = java.util.Arrays.compareUnsigned(network, o.network);
    return c != 0 ? c : Integer.compare(length, o.length);
  }

  @Override
  public String toString() {
    return Addresses.format(network()) + "/" + length;
  }

  /** True if {@code a} is the address family of this prefix. */
  public boolean sameFamily(InetAddress a) {
    return isIpv4() ? a instanceof Inet4Address : a instanceof Inet6Address;
  }
}
