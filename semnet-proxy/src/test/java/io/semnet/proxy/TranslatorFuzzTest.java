package io.semnet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.semnet.proxy.internal.packet.PacketView;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

/**
 * Fuzzes parse + translate through the translator's real entry points, from the TUN and from a
 * peer. Properties: nothing throws; every packet is either forwarded, delivered, parked or counted
 * as dropped; whatever comes out parses; and a packet whose checksums were valid comes out with
 * valid checksums (incremental updates preserve validity).
 */
class TranslatorFuzzTest {
  private static Harness harness;

  private static synchronized Harness harness() throws Exception {
    if (harness == null) {
      harness = new Harness();
    }
    return harness;
  }

  @FuzzTest(maxDuration = "30s")
  void parseAndTranslate(FuzzedDataProvider data) throws Exception {
    Harness h = harness();
    boolean fromPeer = data.consumeBoolean();
    byte[] packet = data.consumeRemainingAsBytes();
    h.tunnel.sent.clear();
    h.io.written.clear();
    boolean validIn = checksumsValid(packet);
    if (fromPeer) {
      h.fromPeer(Harness.N2, packet);
    } else {
      h.fromTun(packet);
    }
    PacketView v = new PacketView();
    for (Map.Entry<?, byte[]> e : h.tunnel.sent) {
      check(v, e.getValue(), validIn);
    }
    for (byte[] p : List.copyOf(h.io.written)) {
      check(v, p, validIn);
    }
    assertTrue(h.translator.flowCount() <= 65_536);
  }

  private static void check(PacketView v, byte[] out, boolean validIn) {
    assertEquals(PacketView.Status.OK, v.parse(ByteBuffer.wrap(out)), "output parses");
    if (validIn) {
      Pkt.assertChecksums(out);
    }
  }

  /** True if the packet is exactly as long as its header says and all its checksums verify. */
  static boolean checksumsValid(byte[] p) {
    try {
      PacketView v = new PacketView();
      if (v.parse(ByteBuffer.wrap(p)) != PacketView.Status.OK || v.length() != p.length) {
        return false;
      }
      if (v.isIcmpError()) {
        PacketView inner = new PacketView();
        if (inner.parseEmbedded(ByteBuffer.wrap(p), v.l4Offset() + 8, p.length) != 0 || inner.length() < 20) {
          return false;
        }
      }
      Pkt.assertChecksums(p);
      return true;
    } catch (AssertionError | RuntimeException e) {
      return false;
    }
  }
}
