package io.semnet.proxy.internal.packet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.proxy.Pkt;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class TcpSegmenterTest {
  static final int FIN = 0x01;
  static final int PSH = 0x08;
  static final int ACK = 0x10;
  static final int CWR = 0x80;

  /** A TCP super-packet with a 12-byte option block (NOP NOP timestamps) and {@code payload} bytes. */
  static byte[] superPacket(boolean v6, int payload, int flags) {
    byte[] t = new byte[32 + payload];
    ByteBuffer b = ByteBuffer.wrap(t);
    b.putShort(0, (short) 40000).putShort(2, (short) 5201).putInt(4, 0xfffff000).putInt(8, 77);
    b.put(12, (byte) (8 << 4)).put(13, (byte) flags).putShort(14, (short) 501);
    b.put(20, (byte) 1).put(21, (byte) 1).put(22, (byte) 8).put(23, (byte) 10).putInt(24, 123456).putInt(28, 654321);
    for (int i = 32; i < t.length; i++) {
      t[i] = (byte) (i * 31 + (i >>> 8));
    }
    return v6 ? Pkt.v6("fd10::2", "fd53::10", 6, t) : Pkt.v4("10.10.0.2", "172.30.0.10", 6, t);
  }

  static List<byte[]> segment(byte[] p, int tcpOffset, int mss, int headroom) {
    ByteBuffer in = ByteBuffer.allocateDirect(headroom + p.length);
    in.position(headroom);
    in.put(p).flip().position(headroom);
    List<byte[]> out = new ArrayList<>();
    int n = new TcpSegmenter(2048).segment(in, headroom + tcpOffset, mss, seg -> {
      byte[] a = new byte[seg.remaining()];
      seg.get(seg.position(), a);
      out.add(a);
    });
    assertEquals(n < 0 ? 0 : n, out.size());
    return n < 0 ? null : out;
  }

  @Test
  void cutsIpv4SuperPacketLikeTheKernel() {
    byte[] p = superPacket(false, 10_000, ACK | PSH | FIN | CWR);
    List<byte[]> segs = segment(p, 20, 1388, 10);
    assertEquals(8, segs.size(), "ceil(10000/1388)");
    ByteArrayOutputStream payload = new ByteArrayOutputStream();
    for (int i = 0; i < segs.size(); i++) {
      byte[] s = segs.get(i);
      ByteBuffer b = ByteBuffer.wrap(s);
      boolean last = i == segs.size() - 1;
      Pkt.assertChecksums(s);
      assertEquals(s.length, b.getShort(2) & 0xffff, "IPv4 total length");
      assertEquals(0x1234 + i, b.getShort(4) & 0xffff, "IPv4 identification counts up");
      assertEquals(last ? 10_000 - 7 * 1388 : 1388, s.length - 52);
      assertEquals(0xfffff000 + i * 1388, b.getInt(24), "sequence number (wrapping)");
      int flags = b.get(33) & 0xff;
      assertEquals(ACK, flags & ACK);
      assertEquals(last ? PSH | FIN : 0, flags & (PSH | FIN), "PSH and FIN only on the last");
      assertEquals(i == 0 ? CWR : 0, flags & CWR, "CWR only on the first");
      assertArrayEquals(Arrays.copyOfRange(p, 20, 52), withSeqFlagsChecksumOf(p, s, 20), "options copied");
      payload.write(s, 52, s.length - 52);
    }
    assertArrayEquals(Arrays.copyOfRange(p, 52, p.length), payload.toByteArray());
  }

  @Test
  void cutsIpv6SuperPacket() {
    byte[] p = superPacket(true, 5000, ACK);
    List<byte[]> segs = segment(p, 40, 1000, 10);
    assertEquals(5, segs.size());
    for (byte[] s : segs) {
      Pkt.assertChecksums(s);
      assertEquals(s.length - 40, ByteBuffer.wrap(s).getShort(4) & 0xffff, "IPv6 payload length");
      assertEquals(1000, s.length - 72);
    }
  }

  @Test
  void aSuperPacketThatFitsOneSegmentComesOutWhole() {
    byte[] p = superPacket(false, 500, ACK | PSH);
    List<byte[]> segs = segment(p, 20, 1388, 0);
    assertEquals(1, segs.size());
    assertArrayEquals(p, segs.get(0));
  }

  @Test
  void malformedSuperPacketsAreRefusedWithoutOutput() {
    byte[] p = superPacket(false, 3000, ACK);
    assertEquals(null, segment(p, 24, 1388, 0), "transport offset disagrees with the IPv4 header length");
    assertEquals(null, segment(p, 20, 0, 0), "no segment size");
    assertEquals(null, segment(Arrays.copyOf(p, 40), 20, 1388, 0), "TCP header cut off");
    byte[] bad = p.clone();
    bad[0] = 0x55;
    assertEquals(null, segment(bad, 20, 1388, 0), "not IPv4/IPv6");
    byte[] v6 = superPacket(true, 3000, ACK);
    assertEquals(null, segment(v6, 20, 1388, 0), "inside the IPv6 header");
    assertEquals(null, segment(p, 20, 4000, 0), "segment larger than the buffer");
  }

  @Test
  void completesPartialChecksumsOfTcpAndUdp() {
    for (boolean v6 : new boolean[] {false, true}) {
      for (int proto : new int[] {6, 17}) {
        byte[] l4 = proto == 6 ? Pkt.tcp(1, 2, ACK, 0, 333) : Pkt.udp(1, 2, 333);
        byte[] full = v6 ? Pkt.v6("fd10::2", "fd53::10", proto, l4) : Pkt.v4("10.10.0.2", "172.30.0.10", proto, l4);
        int l4At = v6 ? 40 : 20;
        int field = l4At + (proto == 6 ? 16 : 6);
        ByteBuffer b = ByteBuffer.allocateDirect(full.length).put(full).flip();
        // What the kernel hands over with CHECKSUM_PARTIAL: the folded pseudo-header sum, not inverted.
        long pseudo = TcpSegmenter.pseudoHeaderSum(b, 0, v6, proto, full.length - l4At);
        b.putShort(field, (short) Checksums.fold(pseudo));
        assertTrue(TcpSegmenter.completeChecksum(b, l4At, field, proto == 17));
        byte[] done = new byte[full.length];
        b.get(0, done);
        assertArrayEquals(full, done, "v6=" + v6 + " proto=" + proto);
      }
    }
    ByteBuffer small = ByteBuffer.allocateDirect(30);
    assertTrue(!TcpSegmenter.completeChecksum(small, 20, 29, false), "checksum field past the end");
  }

  /** The first segment's TCP header with sequence, flags and checksum taken from the original, to compare options. */
  private static byte[] withSeqFlagsChecksumOf(byte[] original, byte[] seg, int at) {
    byte[] h = Arrays.copyOfRange(seg, at, at + 32);
    System.arraycopy(original, at + 4, h, 4, 4);
    h[13] = original[at + 13];
    System.arraycopy(original, at + 16, h, 16, 2);
    return h;
  }
}
