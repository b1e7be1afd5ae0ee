package io.semnet.proxy.internal.packet;

import io.semnet.core.node.PacketHandler;
import java.nio.ByteBuffer;

/**
 * Cuts a TCP super-packet (what a TUN device with TSO offload hands over: one IP/TCP header in
 * front of up to 64 KiB of payload) into segments of at most {@code mss} payload bytes, each a
 * complete packet with its own length, IPv4 identification, sequence number, flags and full
 * checksums, exactly as the kernel's own segmentation would put them on the wire. Also completes
 * the checksum of a single packet whose checksum the kernel left partial ({@code CHECKSUM_PARTIAL}).
 *
 * <p>Segments are written one after another into one reusable direct buffer and handed to a
 * {@link PacketHandler}; nothing is allocated per packet. Not thread-safe: one per reader thread.
 */
public final class TcpSegmenter {
  private static final int FIN = 0x01;
  private static final int PSH = 0x08;
  private static final int CWR = 0x80;

  private final ByteBuffer segment;

  /** A segmenter whose segments may be up to {@code maxSegmentBytes} long (headers included). */
  public TcpSegmenter(int maxSegmentBytes) {
    this.segment = ByteBuffer.allocateDirect(maxSegmentBytes);
  }

  /**
   * Hands {@code sink} the segments of the TCP super-packet between {@code packet.position()} and
   * {@code packet.limit()}, whose TCP header starts at absolute index {@code tcpOffset}.
   *
   * @return the number of segments handed over, or -1 (nothing handed over) if the packet is not a
   *     well-formed IPv4/IPv6 TCP packet or a segment would not fit the buffer
   */
  public int segment(ByteBuffer packet, int tcpOffset, int mss, PacketHandler sink) {
    int start = packet.position();
    int end = packet.limit();
    if (mss <= 0 || end - start < 20 || tcpOffset < start || tcpOffset + 20 > end) {
      return -1;
    }
    int version = (packet.get(start) & 0xff) >>> 4;
    boolean v6 = version == 6;
    if (!v6 && version != 4) {
      return -1;
    }
    int ipHeader = tcpOffset - start;
    if (v6 ? ipHeader < 40 : ipHeader < 20 || ipHeader != (packet.get(start) & 0x0f) * 4) {
      return -1;
    }
    int tcpHeader = ((packet.get(tcpOffset + 12) & 0xff) >>> 4) * 4;
    int headers = ipHeader + tcpHeader;
    if (tcpHeader < 20 || start + headers > end || headers + mss > segment.capacity()) {
      return -1;
    }
    int payload = end - start - headers;
    int seq = packet.getInt(tcpOffset + 4);
    int flags = packet.get(tcpOffset + 13) & 0xff;
    int id = v6 ? 0 : packet.getShort(start + 4) & 0xffff;
    ByteBuffer s = segment;
    int count = 0;
    int off = 0;
    do {
      int n = Math.min(mss, payload - off);
      boolean first = off == 0;
      boolean last = off + n >= payload;
      s.clear();
      s.put(0, packet, start, headers);
      s.put(headers, packet, start + headers + off, n);
      int length = headers + n;
      if (v6) {
        s.putShort(4, (short) (length - 40));
      } else {
        s.putShort(2, (short) length);
        s.putShort(4, (short) (id + count));
        s.putShort(10, (short) 0);
        s.putShort(10, (short) Checksums.finish(Checksums.sum(s, 0, ipHeader, 0)));
      }
      s.putInt(ipHeader + 4, seq + off);
      int f = flags;
      if (!last) {
        f &= ~(FIN | PSH);
      }
      if (!first) {
        f &= ~CWR;
      }
      s.put(ipHeader + 13, (byte) f);
      s.putShort(ipHeader + 16, (short) 0);
      long sum = pseudoHeaderSum(s, 0, v6, PacketView.PROTO_TCP, tcpHeader + n);
      s.putShort(ipHeader + 16, (short) Checksums.finish(Checksums.sum(s, ipHeader, tcpHeader + n, sum)));
      s.position(0).limit(length);
      sink.onPacket(s);
      count++;
      off += n;
    } while (off < payload);
    return count;
  }

  /**
   * Completes a checksum the sender left partial: the 16-bit field at {@code checksumOffset}
   * already holds the pseudo-header sum, and the checksum covers everything from {@code
   * coveredFrom} to the packet's limit. A UDP checksum that comes out zero is sent as 0xffff.
   *
   * @return false (packet unchanged) if the offsets lie outside the packet
   */
  public static boolean completeChecksum(ByteBuffer packet, int coveredFrom, int checksumOffset, boolean udp) {
    int end = packet.limit();
    if (coveredFrom < packet.position() || checksumOffset < coveredFrom || checksumOffset + 2 > end) {
      return false;
    }
    int c = Checksums.finish(Checksums.sum(packet, coveredFrom, end - coveredFrom, 0));
    packet.putShort(checksumOffset, (short) (udp && c == 0 ? 0xffff : c));
    return true;
  }

  /** The sum of the pseudo header of the IP packet at {@code ip} for a transport segment of {@code length} bytes. */
  static long pseudoHeaderSum(ByteBuffer b, int ip, boolean v6, int protocol, int length) {
    long sum = v6 ? Checksums.sum(b, ip + 8, 32, 0) : Checksums.sum(b, ip + 12, 8, 0);
    return sum + protocol + length;
  }
}
