package io.semnet.proxy.internal.packet;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

/**
 * Addresses as the data path holds them: two longs, {@code hi} (the upper 8 bytes of an IPv6
 * address, 0 for IPv4) and {@code lo} (the lower 8 bytes of an IPv6 address, or the IPv4 address
 * as an unsigned int), the same words {@link PacketView#srcHi()} and friends return. Conversions
 * from and to {@link InetAddress} allocate and belong off the per-packet path (new flows, control
 * plane); {@link #putAddresses} does not allocate.
 */
public final class AddressWords {
  private AddressWords() {}

  /** The upper word of {@code a}: its first 8 bytes if IPv6, 0 if IPv4. */
  public static long hi(InetAddress a) {
    byte[] b = a.getAddress();
    return b.length == 4 ? 0 : ByteBuffer.wrap(b).getLong(0);
  }

  /** The lower word of {@code a}: its last 8 bytes if IPv6, the unsigned address if IPv4. */
  public static long lo(InetAddress a) {
    byte[] b = a.getAddress();
    return b.length == 4 ? ByteBuffer.wrap(b).getInt(0) & 0xffffffffL : ByteBuffer.wrap(b).getLong(8);
  }

  /**
   * The address of the given family whose words are {@code hi} and {@code lo} (allocates); an
   * {@link Inet6Address} for IPv6 even if the bytes are IPv4-mapped.
   */
  public static InetAddress toInetAddress(boolean v6, long hi, long lo) {
    byte[] a;
    if (v6) {
      a = new byte[16];
      ByteBuffer.wrap(a).putLong(hi).putLong(lo);
      try {
        // Never an Inet4Address, also for IPv4-mapped bytes (InetAddress.getByAddress would convert).
        return Inet6Address.getByAddress(null, a, -1);
      } catch (UnknownHostException e) {
        throw new AssertionError(e);
      }
    } else {
      a = new byte[4];
      ByteBuffer.wrap(a).putInt((int) lo);
    }
    try {
      return InetAddress.getByAddress(a);
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  /**
   * Writes source and destination into the IP header starting at {@code s} (IPv6: bytes 8-39;
   * IPv4: bytes 12-19). Checksums are the caller's business.
   */
  public static void putAddresses(ByteBuffer b, int s, boolean v6, long srcHi, long srcLo, long dstHi, long dstLo) {
    if (v6) {
      b.putLong(s + 8, srcHi);
      b.putLong(s + 16, srcLo);
      b.putLong(s + 24, dstHi);
      b.putLong(s + 32, dstLo);
    } else {
      b.putInt(s + 12, (int) srcLo);
      b.putInt(s + 16, (int) dstLo);
    }
  }
}
