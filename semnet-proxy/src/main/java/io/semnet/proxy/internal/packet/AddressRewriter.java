package io.semnet.proxy.internal.packet;

import java.nio.ByteBuffer;

/**
 * Rewrites the addresses of a parsed packet in place and keeps its checksums valid incrementally
 * (RFC 1624): the IPv4 header checksum, and on a first fragment the TCP, UDP (a zero UDP checksum
 * stays zero) or ICMPv6 checksum, whose pseudo-headers cover the addresses. Allocation-free.
 */
public final class AddressRewriter {
  /** Checksum difference of decrementing the TTL by one (the TTL/protocol word loses 0x0100). */
  public static final int TTL_DELTA = 0xfeff;

  private AddressRewriter() {}

  /**
   * Writes new addresses into {@code pv}'s packet and adjusts its checksums by {@code d}, the
   * one's-complement difference of the old and new addresses; with {@code decrementTtl} the TTL
   * (hop limit) loses one as well.
   */
  public static void rewrite(PacketView pv, boolean v6, int proto, long nSrcHi, long nSrcLo, long nDstHi, long nDstLo,
      int d, boolean decrementTtl) {
    ByteBuffer b = pv.buffer();
    int s = pv.start();
    if (!v6) {
      b.putInt(s + 12, (int) nSrcLo);
      b.putInt(s + 16, (int) nDstLo);
      int ipd = d;
      if (decrementTtl) {
        b.put(s + 8, (byte) (b.get(s + 8) - 1));
        ipd = Checksums.add(d, TTL_DELTA);
      }
      Checksums.adjustAt(b, s + 10, ipd);
    } else {
      AddressWords.putAddresses(b, s, true, nSrcHi, nSrcLo, nDstHi, nDstLo);
      if (decrementTtl) {
        b.put(s + 7, (byte) (b.get(s + 7) - 1));
      }
    }
    if (pv.isFirstFragment()) {
      int l4 = pv.l4Offset();
      switch (proto) {
        case PacketView.PROTO_TCP:
          Checksums.adjustAt(b, l4 + 16, d);
          break;
        case PacketView.PROTO_UDP:
          Checksums.adjustUdpAt(b, l4 + 6, d);
          break;
        case PacketView.PROTO_ICMPV6:
          Checksums.adjustAt(b, l4 + 2, d);
          break;
        default:
          break; // ICMPv4 has no pseudo-header
      }
    }
  }
}
