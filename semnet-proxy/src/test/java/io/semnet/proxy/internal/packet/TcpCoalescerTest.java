package io.semnet.proxy.internal.packet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.proxy.Pkt;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TcpCoalescerTest {
  static final int HEADROOM = 10;
  static final int ACK = 0x10;
  static final int PSH = 0x08;
  static final int FIN = 0x01;

  /** The segments the kernel would put on the wire for one super-packet. */
  static List<byte[]> segments(boolean v6, int payload, int flags, int mss) {
    byte[] p = TcpSegmenterTest.superPacket(v6, payload, flags);
    ByteBuffer in = ByteBuffer.allocateDirect(p.length).put(p).flip();
    List<byte[]> out = new ArrayList<>();
    new TcpSegmenter(4096).segment(in, v6 ? 40 : 20, mss, s -> {
      byte[] a = new byte[s.remaining()];
      s.get(s.position(), a);
      out.add(a);
    });
    return out;
  }

  static TcpCoalescer.Offer offer(TcpCoalescer c, byte[] packet) {
    return c.offer(ByteBuffer.wrap(packet));
  }

  /** The pending super-packet with its checksum completed, i.e. what the kernel would deliver. */
  static byte[] finishedAndCompleted(TcpCoalescer c) {
    int tcp = c.tcpOffset();
    ByteBuffer b = c.finish();
    ByteBuffer packet = b.duplicate().position(HEADROOM).slice();
    if (c.segments() > 1) {
      assertTrue(TcpSegmenter.completeChecksum(packet, tcp, tcp + 16, false));
    }
    byte[] a = new byte[packet.remaining()];
    packet.get(0, a);
    return a;
  }

  @Test
  void mergesTheSegmentsOfASuperPacketBackIntoIt() {
    for (boolean v6 : new boolean[] {false, true}) {
      byte[] original = TcpSegmenterTest.superPacket(v6, 10_000, ACK | PSH);
      TcpCoalescer c = new TcpCoalescer(HEADROOM);
      List<byte[]> segs = segments(v6, 10_000, ACK | PSH, 1388);
      for (byte[] s : segs) {
        assertEquals(TcpCoalescer.Offer.TAKEN, offer(c, s));
      }
      assertEquals(segs.size(), c.segments());
      assertEquals(1388, c.segmentSize());
      // The first segment's IPv4 identification is the original's, so the merged packet, with
      // the header checksum finish() computed and the TCP checksum the kernel would complete,
      // must equal the original byte for byte.
      byte[] merged = finishedAndCompleted(c);
      Pkt.assertChecksums(merged);
      assertArrayEquals(original, merged, "v6=" + v6);
    }
  }

  /** A lone segment continuing {@link TcpSegmenterTest#superPacket}'s stream at {@code offset}. */
  static byte[] continuation(int offset, int payload, int flags) {
    byte[] p = TcpSegmenterTest.superPacket(false, payload, flags);
    ByteBuffer.wrap(p).putInt(24, 0xfffff000 + offset);
    Pkt.fill(p);
    return p;
  }

  @Test
  void aShortOrPushedSegmentEndsTheSuperPacket() {
    TcpCoalescer c = new TcpCoalescer(HEADROOM);
    for (byte[] s : segments(false, 3000, ACK, 1000)) {
      assertEquals(TcpCoalescer.Offer.TAKEN, offer(c, s));
    }
    assertEquals(TcpCoalescer.Offer.FLUSH_FIRST, offer(c, continuation(3000, 1001, ACK)), "larger than the segment size");
    assertEquals(TcpCoalescer.Offer.TAKEN, offer(c, continuation(3000, 400, ACK)), "a short last segment");
    assertEquals(TcpCoalescer.Offer.FLUSH_FIRST, offer(c, continuation(3400, 1000, ACK)), "nothing after a short one");

    TcpCoalescer d = new TcpCoalescer(HEADROOM);
    for (byte[] s : segments(false, 2000, ACK | PSH, 1000)) {
      assertEquals(TcpCoalescer.Offer.TAKEN, offer(d, s));
    }
    assertEquals(TcpCoalescer.Offer.FLUSH_FIRST, offer(d, continuation(2000, 1000, ACK)), "nothing after a PSH");
    byte[] merged = finishedAndCompleted(d);
    assertEquals(PSH | ACK, merged[33] & 0xff, "the merged packet keeps the PSH");
  }

  @Test
  void refusesWhatMustNotBeMerged() {
    List<byte[]> segs = segments(false, 4000, ACK, 1000);
    TcpCoalescer c = new TcpCoalescer(HEADROOM);
    assertEquals(TcpCoalescer.Offer.TAKEN, offer(c, segs.get(0)));
    assertEquals(TcpCoalescer.Offer.FLUSH_FIRST, offer(c, segs.get(2)), "a gap in the byte stream");
    byte[] otherPort = segs.get(1).clone();
    ByteBuffer.wrap(otherPort).putShort(20, (short) 40001);
    Pkt.fill(otherPort);
    assertEquals(TcpCoalescer.Offer.FLUSH_FIRST, offer(c, otherPort), "another connection");
    byte[] otherAck = segs.get(1).clone();
    ByteBuffer.wrap(otherAck).putInt(28, 78);
    Pkt.fill(otherAck);
    assertEquals(TcpCoalescer.Offer.FLUSH_FIRST, offer(c, otherAck), "another acknowledgment number");
    byte[] corrupt = segs.get(1).clone();
    corrupt[corrupt.length - 1] ^= 1;
    assertEquals(TcpCoalescer.Offer.PASS, offer(c, corrupt), "a bad checksum is left for the receiver to see");
    byte[] fin = segs.get(1).clone();
    fin[33] |= FIN;
    Pkt.fill(fin);
    assertEquals(TcpCoalescer.Offer.PASS, offer(c, fin), "FIN");
    assertEquals(TcpCoalescer.Offer.PASS, offer(c, Pkt.v4("10.10.0.2", "172.30.0.10", 17, Pkt.udp(1, 2, 100))), "UDP");
    assertEquals(TcpCoalescer.Offer.PASS, offer(c, Pkt.v4("10.10.0.2", "172.30.0.10", 6, Pkt.tcp(1, 2, ACK, 0, 0))),
        "a pure ACK");
    assertEquals(TcpCoalescer.Offer.TAKEN, offer(c, segs.get(1)), "the next segment still merges");
    assertEquals(2, c.segments());
  }

  @Test
  void startsAfreshAfterEachFinish() {
    TcpCoalescer c = new TcpCoalescer(HEADROOM);
    List<byte[]> big = segments(false, 4000, ACK, 1000);
    for (byte[] s : big) {
      offer(c, s);
    }
    c.finish();
    c.clear();
    assertFalse(c.hasPending());
    byte[] small = Pkt.v4("10.10.0.2", "172.30.0.10", 6, Pkt.tcp(1, 2, ACK | PSH, 0, 111));
    assertEquals(TcpCoalescer.Offer.TAKEN, offer(c, small));
    assertArrayEquals(small, finishedAndCompleted(c), "a lone segment is written untouched");
    c.clear();
    for (byte[] s : big) {
      assertEquals(TcpCoalescer.Offer.TAKEN, offer(c, s));
    }
    assertEquals(4, c.segments());
  }
}
