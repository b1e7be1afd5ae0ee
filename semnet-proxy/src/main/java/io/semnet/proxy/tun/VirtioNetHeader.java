package io.semnet.proxy.tun;

import io.netty.util.internal.PlatformDependent;
import java.nio.ByteBuffer;

/**
 * The 10-byte {@code struct virtio_net_hdr} a TUN device opened with {@code IFF_VNET_HDR} puts in
 * front of every packet (linux/virtio_net.h): flags, GSO type, header length, GSO segment size,
 * checksum start and offset, little-endian on the hosts SemNet runs on. Readers take it from the
 * buffer position {@link #LENGTH} bytes before the packet.
 */
final class VirtioNetHeader {
  static final int LENGTH = 10;
  static final int F_NEEDS_CSUM = 0x01;
  static final int GSO_NONE = 0;
  static final int GSO_TCPV4 = 1;
  static final int GSO_TCPV6 = 4;
  static final int GSO_ECN = 0x80;
  static final int UDP_CHECKSUM_OFFSET = 6;
  static final int TCP_CHECKSUM_OFFSET = 16;

  private VirtioNetHeader() {}

  /** The header sits at {@code packet.position() - LENGTH}. */
  private static int at(ByteBuffer packet) {
    return packet.position() - LENGTH;
  }

  static boolean needsChecksum(ByteBuffer packet) {
    return (packet.get(at(packet)) & F_NEEDS_CSUM) != 0;
  }

  /** The GSO type without the ECN bit (segments carry CWR on the first one only either way). */
  static int gsoType(ByteBuffer packet) {
    return packet.get(at(packet) + 1) & 0xff & ~GSO_ECN;
  }

  static int gsoSize(ByteBuffer packet) {
    return le16(packet, at(packet) + 4);
  }

  /** Where the checksummed part (the transport header) starts, relative to the packet. */
  static int checksumStart(ByteBuffer packet) {
    return le16(packet, at(packet) + 6);
  }

  /** Where the checksum field lies, relative to {@link #checksumStart}. */
  static int checksumOffset(ByteBuffer packet) {
    return le16(packet, at(packet) + 8);
  }

  private static int le16(ByteBuffer b, int i) {
    return Short.toUnsignedInt(Short.reverseBytes(b.getShort(i)));
  }

  private static void putLe16(ByteBuffer b, int i, int v) {
    b.putShort(i, Short.reverseBytes((short) v));
  }

  /** Writes, at {@code at}, the header of a complete packet needing nothing from the kernel. */
  static void putNone(ByteBuffer b, int at) {
    b.putLong(at, 0L);
    b.putShort(at + 8, (short) 0);
  }

  /**
   * Writes, at {@code at}, the header of a TCP super-packet whose checksum field holds the
   * pseudo-header sum: the kernel may cut it into {@code segmentSize}-byte segments.
   */
  static void putGso(ByteBuffer b, int at, boolean v6, int headerLength, int segmentSize, int tcpOffset) {
    b.put(at, (byte) F_NEEDS_CSUM);
    b.put(at + 1, (byte) (v6 ? GSO_TCPV6 : GSO_TCPV4));
    putLe16(b, at + 2, headerLength);
    putLe16(b, at + 4, segmentSize);
    putLe16(b, at + 6, tcpOffset);
    putLe16(b, at + 8, TCP_CHECKSUM_OFFSET);
  }

  /**
   * Per-thread scratch for writing a packet behind an all-zero header (a complete packet with its
   * checksum already in place) with one {@code writev}, without copying the packet.
   */
  static final class Writer {
    private static final int IOV = 0;
    private static final int HEADER = 32;
    private final ByteBuffer scratch = ByteBuffer.allocateDirect(HEADER + 16);
    private final long base = PlatformDependent.directBufferAddress(scratch);

    Writer() {
      PlatformDependent.putLong(base + IOV, base + HEADER);
      PlatformDependent.putLong(base + IOV + 8, LENGTH);
    }

    /** Returns what writev(2) returned: header plus packet bytes, or -1. */
    long writePlain(int fd, long packetAddress, int length) {
      PlatformDependent.putLong(base + IOV + 16, packetAddress);
      PlatformDependent.putLong(base + IOV + 24, length);
      return LibC.writev(fd, base + IOV, 2);
    }
  }
}
