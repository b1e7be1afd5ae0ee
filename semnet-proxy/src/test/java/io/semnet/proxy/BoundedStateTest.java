package io.semnet.proxy;

import static io.semnet.proxy.Harness.N3;
import static io.semnet.proxy.Harness.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.proxy.internal.packet.AddressWords;
import io.semnet.proxy.internal.packet.PacketView;
import java.net.Inet6Address;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * State and output the data path keeps bounded: fragment tracking (per flow and in total), ICMP
 * errors the node generates (rate-limited), the park budget (a fair share per sender); and IPv6
 * packets with IPv4-mapped addresses, which are never handled as IPv4.
 */
class BoundedStateTest {
  private Harness h;

  @AfterEach
  void tearDown() {
    if (h != null) {
      h.close();
    }
  }

  private static byte[] firstFragment(String src, int sport, int id) {
    byte[] l4 = Pkt.udp(sport, 53, 64);
    return Pkt.v4(src, "172.30.0.10", 17, Arrays.copyOf(l4, 40), 64, false, id, 0, true, new byte[0]);
  }

  private static byte[] lastFragment(String src, int sport, int id) {
    byte[] l4 = Pkt.udp(sport, 53, 64);
    return Pkt.v4(src, "172.30.0.10", 17, Arrays.copyOfRange(l4, 40, l4.length), 64, false, id, 40, false, new byte[0]);
  }

  /** Writes {@code ::ffff:v4} at {@code at} (8: source, 24: destination); Java parses such literals as IPv4. */
  private static byte[] mapped(byte[] p, int at, String v4) {
    Arrays.fill(p, at, at + 10, (byte) 0);
    p[at + 10] = (byte) 0xff;
    p[at + 11] = (byte) 0xff;
    System.arraycopy(ip(v4).getAddress(), 0, p, at + 12, 4);
    return p;
  }

  @Test
  void fragmentTrackingIsBoundedPerFlowAndInTotal() throws Exception {
    h = new Harness(SemnetTranslator.builder().tunnelOverhead(60).fragmentLimits(3, 2));
    h.fromTun(firstFragment("10.1.0.2", 9000, 1));
    h.fromTun(firstFragment("10.1.0.2", 9000, 2));
    assertEquals(2, h.tunnel.sent.size());
    h.fromTun(firstFragment("10.1.0.2", 9000, 3));
    assertEquals(2, h.tunnel.sent.size(), "a third datagram in flight on one flow passes the per-flow cap");
    assertEquals(1, h.count(Counter.DROP_FRAGMENT_LIMIT));
    // the last fragment of datagram 1 ends its entry: room for another
    h.fromTun(lastFragment("10.1.0.2", 9000, 1));
    assertEquals(3, h.tunnel.sent.size());
    h.fromTun(firstFragment("10.1.0.2", 9000, 4));
    assertEquals(4, h.tunnel.sent.size());
    // another flow: one entry fits the total (3), the next does not
    h.fromTun(firstFragment("10.1.0.2", 9001, 5));
    assertEquals(5, h.tunnel.sent.size());
    h.fromTun(firstFragment("10.1.0.2", 9001, 6));
    assertEquals(5, h.tunnel.sent.size(), "the total cap holds");
    assertEquals(2, h.count(Counter.DROP_FRAGMENT_LIMIT));
    // a later fragment of the refused datagram finds no flow
    h.fromTun(lastFragment("10.1.0.2", 9001, 6));
    assertEquals(1, h.count(Counter.DROP_FRAGMENT_NO_FLOW));
  }

  @Test
  void icmpErrorsTheNodeGeneratesAreRateLimited() throws Exception {
    h = new Harness(SemnetTranslator.builder().tunnelOverhead(60).icmpErrorsPerSecond(5));
    h.resolver.routes.remove(ip("172.30.0.99"));
    for (int i = 0; i < 50; i++) {
      // TTL 1: time exceeded, generated at once
      h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(10000 + i, 53, 4), 1, false, i, 0, false, new byte[0]));
    }
    assertEquals(50, h.count(Counter.DROP_TTL_EXPIRED));
    long sent = h.count(Counter.TIME_EXCEEDED_SENT);
    assertTrue(sent >= 5 && sent <= 6, "at most the burst is sent, got " + sent);
    assertEquals(50 - sent, h.count(Counter.ICMP_ERRORS_RATE_LIMITED));
    assertEquals(sent, h.io.written.size());
  }

  @Test
  void oneSenderCannotTakeTheWholeParkBudget() throws Exception {
    h = new Harness(SemnetTranslator.builder().tunnelOverhead(60).maxParkedPackets(8).parkedPacketsPerFlow(1));
    h.resolver.hold = true;
    h.resolver.uncached.put(ip("172.30.0.10"), true);
    h.resolver.uncached.put(ip("fd53::10"), true);
    // server #1 (a second local instance) parks first: 1 of 8
    h.fromTun(Pkt.v4("10.1.0.3", "172.30.0.10", 17, Pkt.udp(30000, 53, 4)));
    // client A floods new flows: it gets a fair share (8 / 2 owners), not all that is left
    for (int i = 0; i < 20; i++) {
      h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(20000 + i, 53, 4)));
    }
    assertEquals(5, h.count(Counter.PARKED), "1 + a share of 4");
    assertEquals(16, h.count(Counter.DROP_PARK_QUOTA));
    // server #1 can still park over the other family (its share is not used up)
    h.fromTun(Pkt.v6("fd00:1::3", "fd53::10", 17, Pkt.udp(30001, 53, 4)));
    assertEquals(6, h.count(Counter.PARKED));
  }

  @Test
  void ipv6PacketsWithIpv4MappedAddressesAreNeverHandledAsIpv4() throws Exception {
    h = new Harness();
    // a local sender targeting ::ffff:172.30.0.10 (the ServiceIP as a mapped address)
    h.fromTun(mapped(Pkt.v6("fd00:1::2", "::1", 17, Pkt.udp(1000, 53, 8)), 24, "172.30.0.10"));
    // a peer delivering from ::ffff:172.30.9.9 to the local server's IPv6 namespace IP
    h.fromPeer(N3, mapped(Pkt.v6("::1", "fd00:1::3", 17, Pkt.udp(1000, 53, 8)), 8, "172.30.9.9"));
    assertEquals(2, h.count(Counter.DROP_MAPPED_ADDRESS));
    assertEquals(0, h.io.written.size());
    assertEquals(0, h.tunnel.sent.size());
    assertEquals(0, h.translator.flowCount());
    assertEquals(0, h.count(Counter.PARKED));

    PacketView v = new PacketView();
    byte[] p = mapped(Pkt.v6("::1", "fd00:1::3", 17, Pkt.udp(1, 2, 0)), 8, "10.0.0.1");
    assertEquals(PacketView.Status.MAPPED_ADDRESS, v.parse(ByteBuffer.wrap(p)));
    // conversions keep the family: mapped bytes stay an IPv6 address
    assertTrue(AddressWords.toInetAddress(true, 0, 0xffff0a000001L) instanceof Inet6Address);
  }
}
