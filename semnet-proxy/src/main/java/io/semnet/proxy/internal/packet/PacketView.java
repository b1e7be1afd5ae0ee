package io.semnet.proxy.internal.packet;

import java.nio.ByteBuffer;

/**
 * A reusable, allocation-free view of one IPv4 or IPv6 packet parsed in place: the IP header
 * (IPv4 options and IPv6 extension headers skipped, fragment fields kept), and on top TCP, UDP,
 * ICMP or ICMPv6. {@link #parse} classifies malformed input with a {@link Status} instead of
 * throwing; after a successful parse the accessors describe the packet, and all offsets are
 * absolute indexes into the buffer. Not thread-safe: one view per thread.
 */
public final class PacketView {
  /** IP protocol numbers this view understands. */
  public static final int PROTO_ICMP = 1;
  public static final int PROTO_TCP = 6;
  public static final int PROTO_UDP = 17;
  public static final int PROTO_ICMPV6 = 58;

  /** Outcome of {@link #parse}. */
  public enum Status {
    OK,
    /** Shorter than the headers it announces. */
    TRUNCATED,
    /** Not IPv4 or IPv6. */
    BAD_VERSION,
    /** IPv4 header length field below 5. */
    BAD_IHL,
    /** Length fields that contradict each other or the buffer. */
    BAD_LENGTH,
    /** A transport protocol or IPv6 extension header the translator does not handle. */
    UNSUPPORTED_PROTOCOL,
    /**
     * An IPv6 packet whose source or destination is IPv4-mapped ({@code ::ffff:a.b.c.d}): never
     * handled as IPv4, never translated (it would mix the two families).
     */
    MAPPED_ADDRESS
  }

  private static final Status[] STATUSES = Status.values();

  private ByteBuffer buf;
  private boolean embedded;
  private int start;
  private int end;
  private boolean v6;
  private int ipHeaderLength;
  private int l4Offset;
  private int protocol;
  private boolean fragment;
  private boolean firstFragment;
  private boolean moreFragments;
  private int fragmentOffset;
  private long fragmentId;
  private int fragmentHeaderOffset;
  private long srcHi;
  private long srcLo;
  private long dstHi;
  private long dstLo;
  private int srcPort;
  private int dstPort;
  private int icmpType;
  private int icmpCode;
  private int tcpFlags;

  /**
   * Parses the packet between {@code b.position()} and {@code b.limit()}. Bytes after the length the
   * IP header announces are ignored (link padding).
   */
  public Status parse(ByteBuffer b) {
    return STATUSES[parse(b, b.position(), b.limit())];
  }

  /** Parses {@code [from, to)} of {@code b}; returns the ordinal of the {@link Status}. */
  public int parse(ByteBuffer b, int from, int to) {
    return parse(b, from, to, false);
  }

  /**
   * Parses the packet an ICMP error embeds, which is usually cut short: lengths may exceed the
   * bytes present and only the first 8 transport bytes (ports) are required.
   */
  public int parseEmbedded(ByteBuffer b, int from, int to) {
    return parse(b, from, to, true);
  }

  /** True if the last parse was of an embedded (possibly truncated) packet. */
  public boolean isEmbedded() {
    return embedded;
  }

  private int parse(ByteBuffer b, int from, int to, boolean lenient) {
    buf = b;
    embedded = lenient;
    start = from;
    fragment = false;
    firstFragment = true;
    moreFragments = false;
    fragmentOffset = 0;
    fragmentId = 0;
    fragmentHeaderOffset = -1;
    srcPort = 0;
    dstPort = 0;
    icmpType = -1;
    icmpCode = -1;
    tcpFlags = 0;
    int len = to - from;
    if (len < 1) {
      return Status.TRUNCATED.ordinal();
    }
    int version = (b.get(from) & 0xff) >>> 4;
    if (version == 4) {
      v6 = false;
      if (len < 20) {
        return Status.TRUNCATED.ordinal();
      }
      int ihl = (b.get(from) & 0x0f) << 2;
      if (ihl < 20) {
        return Status.BAD_IHL.ordinal();
      }
      if (ihl > len) {
        return Status.TRUNCATED.ordinal();
      }
      int total = b.getShort(from + 2) & 0xffff;
      if (total < ihl) {
        return Status.BAD_LENGTH.ordinal();
      }
      if (total > len) {
        if (!lenient) {
          return Status.TRUNCATED.ordinal();
        }
        total = len;
      }
      end = from + total;
      ipHeaderLength = ihl;
      int ff = b.getShort(from + 6) & 0xffff;
      moreFragments = (ff & 0x2000) != 0;
      fragmentOffset = (ff & 0x1fff) << 3;
      fragment = moreFragments || fragmentOffset != 0;
      firstFragment = fragmentOffset == 0;
      fragmentId = b.getShort(from + 4) & 0xffff;
      protocol = b.get(from + 9) & 0xff;
      srcHi = 0;
      srcLo = b.getInt(from + 12) & 0xffffffffL;
      dstHi = 0;
      dstLo = b.getInt(from + 16) & 0xffffffffL;
      l4Offset = from + ihl;
    } else if (version == 6) {
      v6 = true;
      if (len < 40) {
        return Status.TRUNCATED.ordinal();
      }
      int payload = b.getShort(from + 4) & 0xffff;
      if (payload == 0) {
        return Status.BAD_LENGTH.ordinal(); // jumbograms are not carried over the overlay
      }
      if (40 + payload > len) {
        if (!lenient) {
          return Status.TRUNCATED.ordinal();
        }
        payload = len - 40;
      }
      end = from + 40 + payload;
      srcHi = b.getLong(from + 8);
      srcLo = b.getLong(from + 16);
      dstHi = b.getLong(from + 24);
      dstLo = b.getLong(from + 32);
      if (srcHi == 0 && srcLo >>> 32 == 0xffffL || dstHi == 0 && dstLo >>> 32 == 0xffffL) {
        return Status.MAPPED_ADDRESS.ordinal();
      }
      int next = b.get(from + 6) & 0xff;
      int off = from + 40;
      for (int hops = 0; ; hops++) {
        if (hops > 8) {
          return Status.UNSUPPORTED_PROTOCOL.ordinal();
        }
        if (next == 0 || next == 43 || next == 60 || next == 51) {
          if (off + 8 > end) {
            return Status.TRUNCATED.ordinal();
          }
          int hl = next == 51 ? ((b.get(off + 1) & 0xff) + 2) << 2 : ((b.get(off + 1) & 0xff) + 1) << 3;
          if (next == 0 && off != from + 40) {
            return Status.BAD_LENGTH.ordinal(); // hop-by-hop must come first
          }
          next = b.get(off) & 0xff;
          off += hl;
          if (off > end) {
            return Status.TRUNCATED.ordinal();
          }
        } else if (next == 44) {
          if (off + 8 > end) {
            return Status.TRUNCATED.ordinal();
          }
          if (fragmentHeaderOffset >= 0) {
            return Status.BAD_LENGTH.ordinal();
          }
          fragmentHeaderOffset = off;
          int fo = b.getShort(off + 2) & 0xffff;
          fragmentOffset = fo & 0xfff8;
          moreFragments = (fo & 1) != 0;
          fragment = moreFragments || fragmentOffset != 0;
          firstFragment = fragmentOffset == 0;
          fragmentId = b.getInt(off + 4) & 0xffffffffL;
          next = b.get(off) & 0xff;
          off += 8;
        } else {
          break;
        }
      }
      protocol = next;
      l4Offset = off;
      ipHeaderLength = off - from;
    } else {
      return Status.BAD_VERSION.ordinal();
    }
    if (!firstFragment) {
      // Later fragments carry no transport header; the protocol must still be one we translate.
      return supported(protocol) ? Status.OK.ordinal() : Status.UNSUPPORTED_PROTOCOL.ordinal();
    }
    int rem = end - l4Offset;
    switch (protocol) {
      case PROTO_TCP: {
        if (lenient && rem >= 8) {
          srcPort = b.getShort(l4Offset) & 0xffff;
          dstPort = b.getShort(l4Offset + 2) & 0xffff;
          tcpFlags = rem >= 14 ? b.get(l4Offset + 13) & 0xff : 0;
          return Status.OK.ordinal();
        }
        if (rem < 20) {
          return Status.TRUNCATED.ordinal();
        }
        int doff = ((b.get(l4Offset + 12) & 0xff) >>> 4) << 2;
        if (doff < 20) {
          return Status.BAD_LENGTH.ordinal();
        }
        if (doff > rem) {
          return Status.TRUNCATED.ordinal();
        }
        srcPort = b.getShort(l4Offset) & 0xffff;
        dstPort = b.getShort(l4Offset + 2) & 0xffff;
        tcpFlags = b.get(l4Offset + 13) & 0xff;
        return Status.OK.ordinal();
      }
      case PROTO_UDP: {
        if (rem < 8) {
          return Status.TRUNCATED.ordinal();
        }
        int ulen = b.getShort(l4Offset + 4) & 0xffff;
        if (!lenient && (ulen < 8 || (!fragment && ulen > rem))) {
          return Status.BAD_LENGTH.ordinal();
        }
        if (v6 && !fragment && !lenient && (b.getShort(l4Offset + 6) & 0xffff) == 0) {
          return Status.BAD_LENGTH.ordinal(); // RFC 8200: a zero UDP checksum over IPv6 is invalid
        }
        srcPort = b.getShort(l4Offset) & 0xffff;
        dstPort = b.getShort(l4Offset + 2) & 0xffff;
        return Status.OK.ordinal();
      }
      case PROTO_ICMP:
      case PROTO_ICMPV6: {
        if ((protocol == PROTO_ICMP) == v6) {
          return Status.UNSUPPORTED_PROTOCOL.ordinal();
        }
        if (rem < 8) {
          return Status.TRUNCATED.ordinal();
        }
        icmpType = b.get(l4Offset) & 0xff;
        icmpCode = b.get(l4Offset + 1) & 0xff;
        if (isEcho()) {
          srcPort = b.getShort(l4Offset + 4) & 0xffff;
          dstPort = srcPort;
        }
        return Status.OK.ordinal();
      }
      default:
        return Status.UNSUPPORTED_PROTOCOL.ordinal();
    }
  }

  private boolean supported(int p) {
    return p == PROTO_TCP || p == PROTO_UDP || (v6 ? p == PROTO_ICMPV6 : p == PROTO_ICMP);
  }

  public ByteBuffer buffer() {
    return buf;
  }

  /** Absolute index of the first byte of the IP header. */
  public int start() {
    return start;
  }

  /** Absolute index just after the packet (as its IP header says). */
  public int end() {
    return end;
  }

  public int length() {
    return end - start;
  }

  public boolean isIpv6() {
    return v6;
  }

  /** IPv4 header with options, or IPv6 header with extension headers. */
  public int ipHeaderLength() {
    return ipHeaderLength;
  }

  /** Absolute index of the transport header (or, for a later fragment, its payload). */
  public int l4Offset() {
    return l4Offset;
  }

  /** Transport protocol (after IPv6 extension headers). */
  public int protocol() {
    return protocol;
  }

  public boolean isFragment() {
    return fragment;
  }

  /** True unless this is a non-first fragment (which carries no ports). */
  public boolean isFirstFragment() {
    return firstFragment;
  }

  public boolean moreFragments() {
    return moreFragments;
  }

  public int fragmentOffset() {
    return fragmentOffset;
  }

  /** IPv4 identification or IPv6 fragment-header identification. */
  public long fragmentId() {
    return fragmentId;
  }

  /** IPv4: DF set. IPv6: always true (routers never fragment). */
  public boolean dontFragment() {
    return v6 || (buf.get(start + 6) & 0x40) != 0;
  }

  /** High 64 bits of the source (0 for IPv4). */
  public long srcHi() {
    return srcHi;
  }

  /** Low 64 bits of the source (the IPv4 address, unsigned, for IPv4). */
  public long srcLo() {
    return srcLo;
  }

  public long dstHi() {
    return dstHi;
  }

  public long dstLo() {
    return dstLo;
  }

  /** TCP/UDP source port, ICMP echo identifier, else 0. */
  public int srcPort() {
    return srcPort;
  }

  /** TCP/UDP destination port, ICMP echo identifier, else 0. */
  public int dstPort() {
    return dstPort;
  }

  /** ICMP/ICMPv6 type, or -1. */
  public int icmpType() {
    return icmpType;
  }

  public int icmpCode() {
    return icmpCode;
  }

  /** TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10), or 0. */
  public int tcpFlags() {
    return tcpFlags;
  }

  /** TTL or hop limit. */
  public int ttl() {
    return buf.get(start + (v6 ? 7 : 8)) & 0xff;
  }

  /** True for ICMP echo request/reply (v4 8/0, v6 128/129). */
  public boolean isEcho() {
    if (v6) {
      return protocol == PROTO_ICMPV6 && (icmpType == 128 || icmpType == 129);
    }
    return protocol == PROTO_ICMP && (icmpType == 8 || icmpType == 0);
  }

  /** True for ICMP error messages that embed the offending packet's header. */
  public boolean isIcmpError() {
    if (!firstFragment) {
      return false;
    }
    if (v6) {
      return protocol == PROTO_ICMPV6 && icmpType >= 1 && icmpType <= 4;
    }
    return protocol == PROTO_ICMP && (icmpType == 3 || icmpType == 4 || icmpType == 5 || icmpType == 11 || icmpType == 12);
  }

  /** Absolute index of the transport checksum field, or -1 (ICMPv4 has no pseudo-header but is returned too). */
  public int l4ChecksumOffset() {
    if (!firstFragment) {
      return -1;
    }
    switch (protocol) {
      case PROTO_TCP:
        return l4Offset + 16;
      case PROTO_UDP:
        return l4Offset + 6;
      case PROTO_ICMP:
      case PROTO_ICMPV6:
        return l4Offset + 2;
      default:
        return -1;
    }
  }
}
