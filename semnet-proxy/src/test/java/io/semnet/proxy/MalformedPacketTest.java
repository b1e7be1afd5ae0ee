package io.semnet.proxy;

import static io.semnet.proxy.Harness.N2;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.proxy.internal.packet.PacketView;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A corpus of malformed packets (every valid packet cut at every offset, plus bogus length and
 * header fields) sent from the TUN and from a peer: each is dropped with exactly one counted
 * reason, nothing is forwarded, nothing throws.
 */
class MalformedPacketTest {
  static Harness h;

  @BeforeAll
  static void start() throws Exception {
    h = new Harness();
  }

  @AfterAll
  static void stop() {
    h.close();
  }

  static List<byte[]> valid() {
    byte[] ext = {60, 0, 1, 4, 0, 0, 0, 0, 6, 0, 1, 4, 0, 0, 0, 0};
    return List.of(
        Pkt.v4("10.1.0.2", "172.30.0.10", 6, Pkt.tcp(1000, 80, 0x02, 1460, 10)),
        Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(1000, 53, 10)),
        Pkt.v4("10.1.0.2", "172.30.0.10", 1, Pkt.echo(false, true, 5, 1)),
        Pkt.v4("10.1.0.2", "172.30.0.10", 6, Pkt.tcp(1000, 80, 0x10, 0, 4), 64, true, 1, 0, false, new byte[] {1, 1, 1, 0}),
        Pkt.v4("10.1.0.2", "172.30.0.10", 1, Pkt.icmpError(3, 3, 0, Pkt.v4("172.30.0.10", "10.1.0.2", 17, Pkt.udp(53, 1000, 0)))),
        Pkt.v6("fd00:1::2", "fd53::10", 17, Pkt.udp(1000, 53, 10)),
        Pkt.v6("fd00:1::2", "fd53::10", 6, Pkt.tcp(1000, 80, 0x02, 1440, 0), 64, ext, 0),
        Pkt.v6("fd00:1::2", "fd53::10", 58, Pkt.echo(true, true, 5, 1)));
  }

  static List<byte[]> corpus() {
    List<byte[]> bad = new ArrayList<>();
    for (byte[] p : valid()) {
      for (int cut = 0; cut < p.length; cut++) {
        bad.add(Arrays.copyOf(p, cut));
      }
    }
    byte[] v4 = Pkt.v4("10.1.0.2", "172.30.0.10", 6, Pkt.tcp(1000, 80, 0x02, 1460, 10));
    bad.add(with(v4, b -> b.putShort(2, (short) 19)));            // total length < header
    bad.add(with(v4, b -> b.putShort(2, (short) (v4.length + 1)))); // total length > buffer
    bad.add(with(v4, b -> b.put(0, (byte) 0x44)));                // IHL 4
    bad.add(with(v4, b -> b.put(0, (byte) 0x4f)));                // IHL 15 > packet
    bad.add(with(v4, b -> b.put(0, (byte) 0x55)));                // version 5
    bad.add(with(v4, b -> b.put(0, (byte) 0x05)));                // version 0
    bad.add(with(v4, b -> b.put(9, (byte) 47)));                  // GRE
    bad.add(with(v4, b -> b.put(9, (byte) 58)));                  // ICMPv6 in IPv4
    bad.add(with(v4, b -> b.put(20 + 12, (byte) 0x40)));          // TCP data offset 4
    bad.add(with(v4, b -> b.put(20 + 12, (byte) 0xf0)));          // TCP data offset beyond packet
    byte[] u4 = Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(1000, 53, 10));
    bad.add(with(u4, b -> b.putShort(24, (short) 7)));            // UDP length < 8
    bad.add(with(u4, b -> b.putShort(24, (short) 200)));          // UDP length > datagram
    byte[] u6 = Pkt.v6("fd00:1::2", "fd53::10", 17, Pkt.udp(1000, 53, 10));
    bad.add(with(u6, b -> b.putShort(4, (short) 0)));             // jumbogram / zero payload
    bad.add(with(u6, b -> b.putShort(4, (short) 500)));           // payload beyond buffer
    bad.add(with(u6, b -> b.putShort(46, (short) 0)));            // UDP checksum 0 over IPv6
    bad.add(with(u6, b -> b.put(6, (byte) 1)));                   // ICMPv4 in IPv6
    bad.add(with(u6, b -> b.put(6, (byte) 50)));                  // ESP
    byte[] ext = {60, 0, 1, 4, 0, 0, 0, 0, 17, 0, 1, 4, 0, 0, 0, 0};
    byte[] e6 = Pkt.v6("fd00:1::2", "fd53::10", 17, Pkt.udp(1000, 53, 10), 64, ext, 0);
    bad.add(with(e6, b -> b.put(41, (byte) 200)));                // extension header longer than packet
    bad.add(with(e6, b -> b.put(48, (byte) 0)));                  // hop-by-hop not first
    bad.add(with(e6, b -> b.put(48, (byte) 59)));                 // no next header
    return bad;
  }

  interface Edit {
    void apply(ByteBuffer b);
  }

  static byte[] with(byte[] p, Edit e) {
    byte[] c = p.clone();
    e.apply(ByteBuffer.wrap(c));
    return c;
  }

  @Test
  void everyMalformedPacketIsDroppedAndCountedFromBothSides() {
    List<byte[]> corpus = corpus();
    assertTrue(corpus.size() > 400, "corpus size " + corpus.size());
    long before = h.translator.drops();
    for (byte[] p : corpus) {
      h.fromTun(p);
      h.fromPeer(N2, p);
    }
    assertEquals(before + 2L * corpus.size(), h.translator.drops(), "one counted drop per packet: " + h.translator.counters());
    assertTrue(h.tunnel.sent.isEmpty(), "nothing forwarded");
    assertTrue(h.io.written.isEmpty(), "nothing delivered");
    assertTrue(h.tunnel.notFound.isEmpty());
    assertEquals(0, h.translator.flowCount());
  }

  @Test
  void parserClassifiesWhatIsWrong() {
    PacketView v = new PacketView();
    byte[] v4 = Pkt.v4("10.1.0.2", "172.30.0.10", 6, Pkt.tcp(1000, 80, 0x02, 1460, 10));
    assertEquals(PacketView.Status.OK, v.parse(ByteBuffer.wrap(v4)));
    assertEquals(PacketView.Status.TRUNCATED, v.parse(ByteBuffer.wrap(Arrays.copyOf(v4, 10))));
    assertEquals(PacketView.Status.TRUNCATED, v.parse(ByteBuffer.wrap(Arrays.copyOf(v4, 30))));
    assertEquals(PacketView.Status.BAD_IHL, v.parse(ByteBuffer.wrap(with(v4, b -> b.put(0, (byte) 0x43)))));
    assertEquals(PacketView.Status.BAD_LENGTH, v.parse(ByteBuffer.wrap(with(v4, b -> b.putShort(2, (short) 3)))));
    assertEquals(PacketView.Status.BAD_VERSION, v.parse(ByteBuffer.wrap(with(v4, b -> b.put(0, (byte) 0x75)))));
    assertEquals(PacketView.Status.UNSUPPORTED_PROTOCOL, v.parse(ByteBuffer.wrap(with(v4, b -> b.put(9, (byte) 132)))));
    // trailing link padding is ignored
    byte[] padded = Arrays.copyOf(v4, v4.length + 6);
    assertEquals(PacketView.Status.OK, v.parse(ByteBuffer.wrap(padded)));
    assertEquals(v4.length, v.length());
    assertEquals(1000, v.srcPort());
    assertEquals(80, v.dstPort());
    assertEquals(0x02, v.tcpFlags());
    byte[] ext = {60, 0, 1, 4, 0, 0, 0, 0, 44, 0, 1, 4, 0, 0, 0, 0, 17, 0, 0, 8, 0, 0, 0, 9};
    byte[] frag = Pkt.v6("fd00:1::2", "fd53::10", 17, new byte[16], 64, ext, 0);
    assertEquals(PacketView.Status.OK, v.parse(ByteBuffer.wrap(frag)));
    assertTrue(v.isFragment());
    assertTrue(!v.isFirstFragment());
    assertEquals(8, v.fragmentOffset());
    assertEquals(9, v.fragmentId());
    assertEquals(17, v.protocol());
    assertEquals(40 + 24, v.ipHeaderLength());
  }
}
