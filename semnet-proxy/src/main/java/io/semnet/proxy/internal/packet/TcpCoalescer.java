package io.semnet.proxy.internal.packet;

import java.nio.ByteBuffer;

/**
 * Merges consecutive in-order TCP segments of one connection into one super-packet, the inverse of
 * {@link TcpSegmenter} and what the kernel's GRO does on a NIC: written to a TUN device with a
 * GSO virtio header, the super-packet crosses the forwarding path and the receiver's TCP stack
 * once instead of once per segment.
 *
 * <p>Rules (a subset of Linux {@code tcp_gro_receive}, so the kernel could cut the result back
 * into the very segments merged): IPv4 without options or fragmentation, or IPv6 with TCP as the
 * next header; same addresses, ports, TOS/traffic class and flow label, TTL/hop limit, DF bit,
 * acknowledgment number, window and option bytes; flags ACK or ACK|PSH only; each segment's
 * sequence number continues the previous one; all segments carry the first one's payload size
 * except the last, which may be shorter and, like a PSH, ends the super-packet. A segment whose
 * checksum does not verify is never merged (merging would hide the corruption from the receiver).
 *
 * <p>One pending super-packet is kept in a reusable direct buffer, behind {@code headroom} bytes
 * the caller may fill with a device header; nothing is allocated per packet. Not thread-safe.
 */
public final class TcpCoalescer {
  /** What {@link #offer} did with a packet. */
  public enum Offer {
    /** Merged into, or started, the pending super-packet; the caller must not write it. */
    TAKEN,
    /** Not mergeable with the pending super-packet: write the pending one, then offer again. */
    FLUSH_FIRST,
    /** Not a mergeable TCP data segment: write the pending one (order), then the packet as is. */
    PASS
  }

  private static final int ACK = 0x10;
  private static final int PSH = 0x08;
  private static final int MAX_IP_PACKET = 65535;

  private final int headroom;
  private final ByteBuffer pending;
  private boolean active;
  private boolean closed;
  private boolean v6;
  private int ipHeader;
  private int tcpHeader;
  private int segmentSize;
  private int segments;
  private int length;
  private int nextSeq;

  /** A coalescer that keeps {@code headroom} free bytes in front of the pending super-packet. */
  public TcpCoalescer(int headroom) {
    this.headroom = headroom;
    this.pending = ByteBuffer.allocateDirect(headroom + MAX_IP_PACKET);
  }

  /**
   * Offers the packet between {@code p.position()} and {@code p.limit()}; on {@link Offer#TAKEN}
   * its bytes have been copied and the buffer may be reused.
   */
  public Offer offer(ByteBuffer p) {
    int s = p.position();
    int len = p.limit() - s;
    if (len < 40) {
      return Offer.PASS;
    }
    int version = (p.get(s) & 0xff) >>> 4;
    int ip;
    if (version == 4) {
      int flagsFragment = p.getShort(s + 6) & 0xffff;
      if ((p.get(s) & 0x0f) != 5 || p.get(s + 9) != PacketView.PROTO_TCP || (flagsFragment & 0x3fff) != 0
          || (p.getShort(s + 2) & 0xffff) != len) {
        return Offer.PASS;
      }
      ip = 20;
    } else if (version == 6) {
      if (len < 60 || p.get(s + 6) != PacketView.PROTO_TCP || (p.getShort(s + 4) & 0xffff) != len - 40) {
        return Offer.PASS;
      }
      ip = 40;
    } else {
      return Offer.PASS;
    }
    int tcp = s + ip;
    int thl = ((p.get(tcp + 12) & 0xff) >>> 4) * 4;
    int payload = len - ip - thl;
    int flags = p.get(tcp + 13) & 0xff;
    if (thl < 20 || payload <= 0 || (flags & ~PSH) != ACK) {
      return Offer.PASS;
    }
    if (!checksumVerifies(p, s, version == 6, tcp, len - ip)) {
      return Offer.PASS;
    }
    if (!active) {
      start(p, s, len, version == 6, ip, thl, payload, flags);
      return Offer.TAKEN;
    }
    if (closed || !continues(p, s, version == 6, ip, thl, payload) || length + payload > MAX_IP_PACKET) {
      return Offer.FLUSH_FIRST;
    }
    pending.put(headroom + length, p, s + ip + thl, payload);
    length += payload;
    segments++;
    nextSeq += payload;
    if ((flags & PSH) != 0 || payload < segmentSize) {
      pending.put(headroom + ip + 13, (byte) (pending.get(headroom + ip + 13) | (flags & PSH)));
      closed = true;
    }
    return Offer.TAKEN;
  }

  private void start(ByteBuffer p, int s, int len, boolean isV6, int ip, int thl, int payload, int flags) {
    pending.put(headroom, p, s, len);
    active = true;
    closed = (flags & PSH) != 0;
    v6 = isV6;
    ipHeader = ip;
    tcpHeader = thl;
    segmentSize = payload;
    segments = 1;
    length = len;
    nextSeq = p.getInt(s + ip + 4) + payload;
  }

  /** Whether the segment at {@code s} continues the pending super-packet's connection and byte stream. */
  private boolean continues(ByteBuffer p, int s, boolean isV6, int ip, int thl, int payload) {
    if (isV6 != v6 || thl != tcpHeader || payload > segmentSize || p.getInt(s + ip + 4) != nextSeq) {
      return false;
    }
    int h = headroom;
    if (v6) {
      // version/traffic class/flow label, next header and hop limit, addresses
      if (p.getInt(s) != pending.getInt(h) || p.getShort(s + 6) != pending.getShort(h + 6)
          || !sameBytes(p, s + 8, h + 8, 32)) {
        return false;
      }
    } else {
      // TOS, DF, TTL and protocol, addresses
      if (p.get(s + 1) != pending.get(h + 1) || p.get(s + 6) != pending.get(h + 6)
          || p.getShort(s + 8) != pending.getShort(h + 8) || p.getLong(s + 12) != pending.getLong(h + 12)) {
        return false;
      }
    }
    int t = s + ip;
    int pt = h + ip;
    // ports, then acknowledgment, then header length/flags and window (PSH aside), then options
    return p.getInt(t) == pending.getInt(pt)
        && p.getInt(t + 8) == pending.getInt(pt + 8)
        && p.get(t + 12) == pending.get(pt + 12)
        && p.getShort(t + 14) == pending.getShort(pt + 14)
        && sameBytes(p, t + 20, pt + 20, thl - 20);
  }

  private boolean sameBytes(ByteBuffer p, int at, int pendingAt, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) {
      if (p.getLong(at + i) != pending.getLong(pendingAt + i)) {
        return false;
      }
    }
    for (; i < n; i++) {
      if (p.get(at + i) != pending.get(pendingAt + i)) {
        return false;
      }
    }
    return true;
  }

  private static boolean checksumVerifies(ByteBuffer p, int s, boolean isV6, int tcp, int tcpLength) {
    long sum = TcpSegmenter.pseudoHeaderSum(p, s, isV6, PacketView.PROTO_TCP, tcpLength);
    return Checksums.verifies(Checksums.sum(p, tcp, tcpLength, sum));
  }

  /** Whether a super-packet (of one or more segments) is pending. */
  public boolean hasPending() {
    return active;
  }

  /** Segments merged into the pending super-packet. */
  public int segments() {
    return segments;
  }

  /** Payload bytes per segment (all but the last); the GSO segment size. */
  public int segmentSize() {
    return segmentSize;
  }

  /** IP plus TCP header length of the pending super-packet. */
  public int headerLength() {
    return ipHeader + tcpHeader;
  }

  /** Where the TCP header starts, relative to the packet. */
  public int tcpOffset() {
    return ipHeader;
  }

  /** Whether the pending super-packet is IPv6. */
  public boolean ipv6() {
    return v6;
  }

  /**
   * Completes the pending super-packet and returns the buffer holding it: the device header's
   * {@code headroom} bytes from index 0, the packet from index {@code headroom} to the limit. A
   * single segment is returned untouched, with its full checksum. Several segments get their IP
   * length fields (and IPv4 header checksum) fixed, and the TCP checksum field holds the
   * pseudo-header sum only, as a {@code CHECKSUM_PARTIAL} packet does: the kernel completes it
   * if the super-packet is ever cut up again. Valid until {@link #clear()}.
   */
  public ByteBuffer finish() {
    ByteBuffer b = pending;
    int h = headroom;
    if (segments > 1) {
      if (v6) {
        b.putShort(h + 4, (short) (length - 40));
      } else {
        b.putShort(h + 2, (short) length);
        b.putShort(h + 10, (short) 0);
        b.putShort(h + 10, (short) Checksums.finish(Checksums.sum(b, h, ipHeader, 0)));
      }
      long pseudo = TcpSegmenter.pseudoHeaderSum(b, h, v6, PacketView.PROTO_TCP, length - ipHeader);
      b.putShort(h + ipHeader + 16, (short) Checksums.fold(pseudo));
    }
    b.limit(h + length).position(0);
    return b;
  }

  /** Forgets the pending super-packet. */
  public void clear() {
    pending.clear();
    active = false;
    closed = false;
    segments = 0;
    length = 0;
  }
}
