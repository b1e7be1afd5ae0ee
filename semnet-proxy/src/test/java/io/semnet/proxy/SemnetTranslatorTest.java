package io.semnet.proxy;

import static io.semnet.proxy.Harness.N1;
import static io.semnet.proxy.Harness.N2;
import static io.semnet.proxy.Harness.N3;
import static io.semnet.proxy.Harness.ip;
import static io.semnet.proxy.Pkt.assertAddresses;
import static io.semnet.proxy.Pkt.assertChecksums;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.isolation.IsolationRules;
import io.semnet.core.policy.NodeView;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SemnetTranslatorTest {
  static final int SYN = 0x02;
  static final int ACK = 0x10;
  static final int FIN = 0x01;
  static final int RST = 0x04;

  Harness h;

  @BeforeEach
  void setUp() throws Exception {
    h = new Harness();
  }

  @AfterEach
  void tearDown() {
    h.close();
  }

  @Test
  void tcpv4ToServiceIpIsTranslatedToTheChosenRemoteInstanceAndRepliesAreReversed() {
    byte[] syn = Pkt.v4("10.1.0.2", "172.30.0.10", 6, Pkt.tcp(40000, 80, SYN, 1460, 0));
    h.fromTun(syn);
    Map.Entry<WorkerEndpoint, byte[]> out = h.tunnel.take();
    assertEquals(N2, out.getKey());
    byte[] p = out.getValue();
    assertAddresses(p, "172.30.1.1", "10.2.0.2");
    assertEquals(63, Pkt.ttl(p), "TTL decremented like a router");
    assertEquals(1500 - 60 - 40, Pkt.u16(p, 20 + 22), "MSS clamped to fit the tunnel");
    assertChecksums(p);
    assertEquals(1, h.count(Counter.MSS_CLAMPED));
    assertEquals(1, h.translator.flowCount());
    assertEquals(1, h.view.activeFlows(h.server0.key()));

    // SYN-ACK from the server's node: src = server InstanceIP, dst = client InstanceIP.
    byte[] synAck = Pkt.v4("172.30.2.1", "172.30.1.1", 6, Pkt.tcp(80, 40000, SYN | ACK, 1360, 0));
    h.fromPeer(N2, synAck);
    byte[] in = h.io.take();
    assertAddresses(in, "172.30.0.10", "10.1.0.2");
    assertEquals(64, Pkt.ttl(in), "arrivals are not decremented twice");
    assertChecksums(in);
    assertTrue(h.view.setupLatencyNanos(h.server0.key()) >= 0, "SYN to SYN-ACK latency recorded");

    // Data both ways reuse the flow without new resolver queries.
    int queries = h.resolver.cachedCalls.get();
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 6, Pkt.tcp(40000, 80, ACK, 0, 300)));
    byte[] data = h.tunnel.take().getValue();
    assertAddresses(data, "172.30.1.1", "10.2.0.2");
    assertChecksums(data);
    h.fromPeer(N2, Pkt.v4("172.30.2.1", "172.30.1.1", 6, Pkt.tcp(80, 40000, ACK, 0, 1000)));
    assertChecksums(h.io.take());
    assertEquals(queries, h.resolver.cachedCalls.get(), "established flows never ask the resolver");
    assertEquals(0, h.translator.drops());
  }

  @Test
  void tcpv4OptionsInIpHeaderAreSkipped() {
    byte[] opts = {1, 1, 1, 0}; // NOP NOP NOP EOL
    byte[] syn = Pkt.v4("10.1.0.2", "172.30.0.10", 6, Pkt.tcp(40001, 80, SYN, 0, 10), 64, true, 7, 0, false, opts);
    h.fromTun(syn);
    byte[] p = h.tunnel.take().getValue();
    assertAddresses(p, "172.30.1.1", "10.2.0.2");
    assertChecksums(p);
  }

  @Test
  void udpv6WithExtensionHeadersIsTranslatedBothWays() {
    // hop-by-hop (8 bytes of PadN) then destination options (8 bytes), then UDP
    byte[] ext = {60, 0, 1, 4, 0, 0, 0, 0, 17, 0, 1, 4, 0, 0, 0, 0};
    byte[] req = Pkt.v6("fd00:1::2", "fd53::10", 17, Pkt.udp(5353, 53, 40), 64, ext, 0);
    h.fromTun(req);
    Map.Entry<WorkerEndpoint, byte[]> out = h.tunnel.take();
    assertEquals(N2, out.getKey());
    assertAddresses(out.getValue(), "fd53::1:1", "fd00:2::2");
    assertEquals(63, Pkt.ttl(out.getValue()));
    assertChecksums(out.getValue());

    h.fromPeer(N2, Pkt.v6("fd53::2:1", "fd53::1:1", 17, Pkt.udp(53, 5353, 100)));
    byte[] in = h.io.take();
    assertAddresses(in, "fd53::10", "fd00:1::2");
    assertChecksums(in);
  }

  @Test
  void udpv4ZeroChecksumStaysZeroAndUdpv6ZeroChecksumIsDropped() {
    byte[] req = Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(1111, 53, 20));
    req[20 + 6] = 0;
    req[20 + 7] = 0;
    h.fromTun(req);
    byte[] p = h.tunnel.take().getValue();
    assertEquals(0, Pkt.u16(p, 26), "absent IPv4 UDP checksum stays absent");
    assertChecksums(p);

    byte[] v6 = Pkt.v6("fd00:1::2", "fd53::10", 17, Pkt.udp(1111, 53, 20));
    v6[46] = 0;
    v6[47] = 0;
    h.fromTun(v6);
    assertTrue(h.tunnel.sent.isEmpty());
    assertEquals(1, h.count(Counter.DROP_BAD_LENGTH));
  }

  @Test
  void pingIsTranslatedByIdentifierForBothFamilies() {
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 1, Pkt.echo(false, true, 77, 1)));
    byte[] p = h.tunnel.take().getValue();
    assertAddresses(p, "172.30.1.1", "10.2.0.2");
    assertChecksums(p);
    h.fromPeer(N2, Pkt.v4("172.30.2.1", "172.30.1.1", 1, Pkt.echo(false, false, 77, 1)));
    byte[] r = h.io.take();
    assertAddresses(r, "172.30.0.10", "10.1.0.2");
    assertChecksums(r);
    // another identifier is another flow; an unknown identifier in a reply is a stray
    h.fromPeer(N2, Pkt.v4("172.30.2.1", "172.30.1.1", 1, Pkt.echo(false, false, 78, 1)));
    assertEquals(1, h.count(Counter.DROP_NO_FLOW));

    h.fromTun(Pkt.v6("fd00:1::2", "fd53::10", 58, Pkt.echo(true, true, 9, 1)));
    byte[] p6 = h.tunnel.take().getValue();
    assertAddresses(p6, "fd53::1:1", "fd00:2::2");
    assertChecksums(p6);
    h.fromPeer(N2, Pkt.v6("fd53::2:1", "fd53::1:1", 58, Pkt.echo(true, false, 9, 1)));
    byte[] r6 = h.io.take();
    assertAddresses(r6, "fd53::10", "fd00:1::2");
    assertChecksums(r6);
  }

  @Test
  void theServersNodeLearnsThePeerFromTheFirstPacketAndRepliesWithoutQueries() {
    // client on n3 (InstanceIP 172.30.9.9) reaches local server instance #1 (ns 10.1.0.3)
    byte[] req = Pkt.v4("172.30.9.9", "10.1.0.3", 6, Pkt.tcp(5555, 8080, SYN, 1400, 0));
    h.fromPeer(N3, req);
    byte[] in = h.io.take();
    assertArrayEquals(req, in, "delivered unchanged");
    int cached = h.resolver.cachedCalls.get();
    int resolved = h.resolver.resolveCalls.get();
    byte[] reply = Pkt.v4("10.1.0.3", "172.30.9.9", 6, Pkt.tcp(8080, 5555, SYN | ACK, 1460, 0));
    h.fromTun(reply);
    Map.Entry<WorkerEndpoint, byte[]> out = h.tunnel.take();
    assertEquals(N3, out.getKey(), "reply goes back to the peer the flow came from");
    assertAddresses(out.getValue(), "172.30.2.2", "172.30.9.9");
    assertChecksums(out.getValue());
    assertEquals(cached, h.resolver.cachedCalls.get());
    assertEquals(resolved, h.resolver.resolveCalls.get());
    assertEquals(1, h.count(Counter.FLOWS_LEARNED));
  }

  @Test
  void aLocalInstanceIsReachedThroughTheTunAndRepliesComeFromTheServiceIp() {
    h.pick = 1; // the local server instance
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(3000, 7, 32)));
    byte[] toServer = h.io.take();
    assertAddresses(toServer, "172.30.1.1", "10.1.0.3");
    assertChecksums(toServer);
    assertTrue(h.tunnel.sent.isEmpty());
    h.fromTun(Pkt.v4("10.1.0.3", "172.30.1.1", 17, Pkt.udp(7, 3000, 32)));
    byte[] toClient = h.io.take();
    assertAddresses(toClient, "172.30.0.10", "10.1.0.2");
    assertEquals(63, Pkt.ttl(toClient));
    assertChecksums(toClient);

    // through the InstanceIP too
    h.fromTun(Pkt.v6("fd00:1::2", "fd53::2:2", 6, Pkt.tcp(3001, 22, SYN, 0, 0)));
    byte[] v6 = h.io.take();
    assertAddresses(v6, "fd53::1:1", "fd00:1::3");
    assertChecksums(v6);
    h.fromTun(Pkt.v6("fd00:1::3", "fd53::1:1", 6, Pkt.tcp(22, 3001, SYN | ACK, 0, 0)));
    byte[] back = h.io.take();
    assertAddresses(back, "fd53::2:2", "fd00:1::2");
    assertChecksums(back);
  }

  @Test
  void aServiceIpWithoutRouteIsAnsweredWithIcmpUnreachable() {
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.99", 6, Pkt.tcp(4000, 80, SYN, 0, 0)));
    byte[] icmp = h.io.take();
    assertAddresses(icmp, "172.30.0.99", "10.1.0.2");
    assertEquals(1, icmp[9]);
    assertEquals(3, icmp[20]);
    assertEquals(1, icmp[21]);
    assertChecksums(icmp);
    assertEquals("10.1.0.2", Pkt.src(Arrays.copyOfRange(icmp, 28, icmp.length)), "quotes the offending packet");
    assertEquals(1, h.count(Counter.UNREACHABLE_SENT));

    h.fromTun(Pkt.v6("fd00:1::2", "fd53::99", 17, Pkt.udp(4000, 80, 10)));
    byte[] icmp6 = h.io.take();
    assertAddresses(icmp6, "fd53::99", "fd00:1::2");
    assertEquals(58, icmp6[6]);
    assertEquals(1, icmp6[40]);
    assertEquals(3, icmp6[41]);
    assertChecksums(icmp6);
  }

  @Test
  void missesParkUntilTheResolverAnswersAndOverflowIsCounted() {
    h.resolver.hold = true;
    h.resolver.uncached.put(ip("172.30.0.10"), true);
    for (int i = 0; i < 10; i++) {
      h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(6000, 53, i)));
    }
    assertTrue(h.tunnel.sent.isEmpty(), "nothing sent before the answer");
    assertEquals(8, h.count(Counter.PARKED));
    assertEquals(2, h.count(Counter.DROP_PARK_OVERFLOW));
    assertEquals(1, h.resolver.resolveCalls.get(), "one query per address");
    h.resolver.release(ip("172.30.0.10"));
    assertEquals(8, h.tunnel.sent.size());
    for (int i = 0; i < 8; i++) {
      byte[] p = h.tunnel.sent.get(i).getValue();
      assertAddresses(p, "172.30.1.1", "10.2.0.2");
      assertEquals(28 + i, p.length, "order kept");
      assertChecksums(p);
    }
    assertEquals(0, h.translator.parkedCount());
  }

  @Test
  void parkedPacketsForAnUnknownAddressGetUnreachable() {
    h.resolver.hold = true;
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.77", 6, Pkt.tcp(6001, 80, SYN, 0, 0)));
    assertTrue(h.io.written.isEmpty());
    h.resolver.release(ip("172.30.0.77"));
    byte[] icmp = h.io.take();
    assertEquals(3, icmp[20]);
    assertChecksums(icmp);
  }

  @Test
  void isolationRefusesFlowsAcrossAppNamespacesWithAdminProhibited() {
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.20", 6, Pkt.tcp(7000, 443, SYN, 0, 0)));
    byte[] icmp = h.io.take();
    assertEquals(3, icmp[20]);
    assertEquals(13, icmp[21]);
    assertChecksums(icmp);
    assertEquals(1, h.count(Counter.DROP_NOT_PERMITTED));
    assertTrue(h.tunnel.sent.isEmpty());

    h.resolver.rules = IsolationRules.DEFAULT.withGrant(io.semnet.core.isolation.Grant.of(
        io.semnet.core.isolation.ServiceSelector.service(Harness.CLIENT), io.semnet.core.isolation.ServiceSelector.service(Harness.SECRET)));
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.20", 6, Pkt.tcp(7000, 443, SYN, 0, 0)));
    assertAddresses(h.tunnel.take().getValue(), "172.30.1.1", "10.2.0.9");
  }

  @Test
  void icmpErrorsAreTranslatedInsideAndOut() {
    // Local server #1 learned a UDP flow from a client on n3, then answers port unreachable.
    byte[] req = Pkt.v4("172.30.9.9", "10.1.0.3", 17, Pkt.udp(5000, 9999, 12));
    h.fromPeer(N3, req);
    byte[] delivered = h.io.take();
    byte[] err = Pkt.v4("10.1.0.3", "172.30.9.9", 1, Pkt.icmpError(3, 3, 0, delivered));
    h.fromTun(err);
    Map.Entry<WorkerEndpoint, byte[]> out = h.tunnel.take();
    assertEquals(N3, out.getKey());
    byte[] e = out.getValue();
    assertAddresses(e, "172.30.2.2", "172.30.9.9");
    byte[] inner = Arrays.copyOfRange(e, 28, e.length);
    assertAddresses(inner, "172.30.9.9", "172.30.2.2");
    assertChecksums(e);
    assertChecksums(inner);

    // Client side: a TCP flow to the ServiceIP; the server's node reports fragmentation needed.
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 6, Pkt.tcp(41000, 80, ACK, 0, 100)));
    h.tunnel.take();
    // as the server's node forwards it: the quoted packet was translated there to (client InstanceIP -> server InstanceIP)
    byte[] quotedByServerNode = Pkt.v4("172.30.1.1", "172.30.2.1", 6, Pkt.tcp(41000, 80, ACK, 0, 100));
    byte[] ptb = Pkt.v4("172.30.2.1", "172.30.1.1", 1, Pkt.icmpError(3, 4, 1280, Arrays.copyOf(quotedByServerNode, 48)));
    h.fromPeer(N2, ptb);
    byte[] got = h.io.take();
    assertAddresses(got, "172.30.0.10", "10.1.0.2");
    byte[] quoted = Arrays.copyOfRange(got, 28, got.length);
    assertAddresses(quoted, "10.1.0.2", "172.30.0.10");
    assertEquals(1280, Pkt.u16(got, 26), "MTU kept");
    assertChecksums(got);
    assertEquals(2, h.count(Counter.ICMP_ERRORS_TRANSLATED));

    // ICMPv6 packet-too-big for a v6 UDP flow.
    h.fromTun(Pkt.v6("fd00:1::2", "fd53::10", 17, Pkt.udp(41001, 443, 100)));
    h.tunnel.take();
    byte[] s6 = Pkt.v6("fd53::1:1", "fd53::2:1", 17, Pkt.udp(41001, 443, 100));
    h.fromPeer(N2, Pkt.v6("fd53::2:1", "fd53::1:1", 58, Pkt.icmpError(2, 0, 1300, s6)));
    byte[] g6 = h.io.take();
    assertAddresses(g6, "fd53::10", "fd00:1::2");
    assertAddresses(Arrays.copyOfRange(g6, 48, g6.length), "fd00:1::2", "fd53::10");
    assertChecksums(g6);
    Pkt.assertChecksums(Arrays.copyOfRange(g6, 48, g6.length));

    // An error about no known flow is dropped.
    h.fromPeer(N2, Pkt.v4("172.30.2.1", "172.30.1.1", 1,
        Pkt.icmpError(3, 3, 0, Pkt.v4("172.30.1.1", "10.2.0.2", 17, Pkt.udp(1, 2, 0)))));
    assertEquals(1, h.count(Counter.DROP_ICMP_NO_FLOW));
  }

  @Test
  void oversizePacketsGetFragmentationNeededOrPacketTooBig() {
    assertEquals(1440, h.translator.maxInnerPacket());
    byte[] big = Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(8000, 53, 1450));
    h.fromTun(big);
    byte[] icmp = h.io.take();
    assertEquals(3, icmp[20]);
    assertEquals(4, icmp[21]);
    assertEquals(1440, Pkt.u16(icmp, 26));
    assertAddresses(icmp, "172.30.0.10", "10.1.0.2");
    assertEquals(576, icmp.length, "IPv4 error is at most 576 bytes");
    assertChecksums(icmp);

    byte[] noDf = Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(8001, 53, 1450), 64, false, 9, 0, false, new byte[0]);
    h.fromTun(noDf);
    assertEquals(1478, h.tunnel.take().getValue().length, "without DF the tunnel's outer datagram fragments instead");

    h.fromTun(Pkt.v6("fd00:1::2", "fd53::10", 17, Pkt.udp(8002, 53, 1450)));
    byte[] ptb = h.io.take();
    assertEquals(2, ptb[40]);
    assertEquals(1440, java.nio.ByteBuffer.wrap(ptb).getInt(44));
    assertEquals(1280, ptb.length);
    assertChecksums(ptb);
    assertEquals(2, h.count(Counter.PACKET_TOO_BIG_SENT));
  }

  @Test
  void ttlExpiryAnswersTimeExceeded() {
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(8100, 53, 8), 1, true, 1, 0, false, new byte[0]));
    byte[] icmp = h.io.take();
    assertEquals(11, icmp[20]);
    assertChecksums(icmp);
    assertEquals(1, h.count(Counter.DROP_TTL_EXPIRED));
  }

  @Test
  void ipv4FragmentsAreTrackedByIdentification() {
    byte[] whole = Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(9000, 53, 64), 64, false, 0x4242, 0, false, new byte[0]);
    // Reference: the same datagram unfragmented, translated.
    h.fromTun(whole.clone());
    byte[] ref = h.tunnel.take().getValue();

    byte[] l4 = Arrays.copyOfRange(whole, 20, whole.length);
    byte[] first = Pkt.v4("10.1.0.2", "172.30.0.10", 17, Arrays.copyOfRange(l4, 0, 40), 64, false, 0x4343, 0, true, new byte[0]);
    byte[] second = Pkt.v4("10.1.0.2", "172.30.0.10", 17, Arrays.copyOfRange(l4, 40, l4.length), 64, false, 0x4343, 40, false, new byte[0]);
    byte[] orphan = Pkt.v4("10.1.0.2", "172.30.0.10", 17, Arrays.copyOfRange(l4, 40, l4.length), 64, false, 0x4444, 40, false, new byte[0]);
    h.fromTun(orphan);
    assertEquals(1, h.count(Counter.DROP_FRAGMENT_NO_FLOW));
    h.fromTun(first);
    h.fromTun(second);
    byte[] f1 = h.tunnel.take().getValue();
    byte[] f2 = h.tunnel.take().getValue();
    assertAddresses(f1, "172.30.1.1", "10.2.0.2");
    assertAddresses(f2, "172.30.1.1", "10.2.0.2");
    assertChecksums(f1);
    assertChecksums(f2);
    assertEquals(Pkt.u16(ref, 26), Pkt.u16(f1, 26), "first fragment's UDP checksum updated like the whole datagram's");
  }

  @Test
  void ipv6FragmentHeadersAreTrackedByIdentification() {
    byte[] udp = Pkt.udp(9100, 53, 64);
    byte[] full = Pkt.v6("fd00:1::2", "fd53::10", 17, udp);
    byte[] cks = Arrays.copyOfRange(full, 40, 48);
    System.arraycopy(cks, 0, udp, 0, 8);
    byte[] fh1 = {17, 0, 0, 1, 0, 0, 0x12, 0x34};
    byte[] fh2 = {17, 0, 0, 40, 0, 0, 0x12, 0x34};
    byte[] first = Pkt.v6("fd00:1::2", "fd53::10", 17, Arrays.copyOfRange(udp, 0, 40), 64, fh1, 44);
    byte[] second = Pkt.v6("fd00:1::2", "fd53::10", 17, Arrays.copyOfRange(udp, 40, udp.length), 64, fh2, 44);
    h.fromTun(first);
    h.fromTun(second);
    byte[] f1 = h.tunnel.take().getValue();
    byte[] f2 = h.tunnel.take().getValue();
    assertAddresses(f1, "fd53::1:1", "fd00:2::2");
    assertAddresses(f2, "fd53::1:1", "fd00:2::2");
    // Reassembled, the translated datagram's UDP checksum verifies.
    byte[] joined = new byte[udp.length];
    System.arraycopy(f1, 48, joined, 0, 40);
    System.arraycopy(f2, 48, joined, 40, udp.length - 40);
    byte[] re = Pkt.v6("fd53::1:1", "fd00:2::2", 17, joined);
    assertEquals(Pkt.u16(joined, 6), Pkt.u16(re, 46), "reassembled checksum matches a full recomputation");
  }

  @Test
  void routeNotFoundIsSentForStrangersAndRepointsFlowsWhenReceived() throws Exception {
    h.fromPeer(N2, Pkt.v4("172.30.9.9", "10.1.0.77", 6, Pkt.tcp(1, 2, SYN, 0, 0)));
    assertEquals(1, h.tunnel.notFound.size());
    assertEquals(N2, h.tunnel.notFound.get(0).getKey());
    assertEquals(ip("10.1.0.77"), h.tunnel.notFound.get(0).getValue());

    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(1234, 53, 4)));
    assertEquals(N2, h.tunnel.take().getKey());
    // server #0 moved to n3 with a new namespace IP; the cached record is updated, then n2 says "not here"
    InstanceRecord moved = h.server0.withLocator(Locator.of(ip("10.3.0.5"), ip("fd00:3::5"), N3, 2));
    Harness.FakeResolver r = h.resolver;
    r.listeners.clear(); // only the route-not-found path re-points here
    h.setServerRecord(h.serverRecord.withInstance(moved, 2));
    h.translator.onRouteNotFound(N2, ip("10.2.0.2"));
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (h.count(Counter.FLOWS_REPOINTED) == 0 && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertEquals(1, h.count(Counter.FLOWS_REPOINTED));
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(1234, 53, 4)));
    Map.Entry<WorkerEndpoint, byte[]> out = h.tunnel.take();
    assertEquals(N3, out.getKey());
    assertAddresses(out.getValue(), "172.30.1.1", "10.3.0.5");
    assertChecksums(out.getValue());
    // replies from the moved instance (same InstanceIP) still reverse-translate
    h.fromPeer(N3, Pkt.v4("172.30.2.1", "172.30.1.1", 17, Pkt.udp(53, 1234, 4)));
    assertAddresses(h.io.take(), "172.30.0.10", "10.1.0.2");
  }

  @Test
  void pushedRecordChangesRepointFlows() throws Exception {
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(2345, 53, 4)));
    assertEquals(N2, h.tunnel.take().getKey());
    InstanceRecord moved = h.server0.withLocator(Locator.of(ip("10.3.0.5"), ip("fd00:3::5"), N3, 2));
    h.setServerRecord(h.serverRecord.withInstance(moved, 2));
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (h.count(Counter.FLOWS_REPOINTED) == 0 && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(2345, 53, 4)));
    assertEquals(N3, h.tunnel.take().getKey());
  }

  /**
   * A pushed move to a node this one has no ready tunnel link to (a first contact: the handshake
   * is under way) keeps the flow on the old place, which forwards during the migration linger,
   * until the link is up: switching at once would queue the stream behind the handshake.
   */
  @Test
  void aPushedMoveWaitsForTheLinkToTheNewPlace() throws Exception {
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(2346, 53, 4)));
    assertEquals(N2, h.tunnel.take().getKey());
    h.tunnel.notReady.add(N3);
    InstanceRecord moved = h.server0.withLocator(
        Locator.of(ip("10.3.0.5"), ip("fd00:3::5"), N3, 2).movedFrom(N2, System.currentTimeMillis()));
    h.setServerRecord(h.serverRecord.withInstance(moved, 2));
    Thread.sleep(50);
    assertEquals(0, h.count(Counter.FLOWS_REPOINTED));
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(2346, 53, 4)));
    assertEquals(N2, h.tunnel.take().getKey(), "still to the old place");
    h.tunnel.notReady.remove(N3);
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (h.count(Counter.FLOWS_REPOINTED) == 0 && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(2346, 53, 4)));
    assertEquals(N3, h.tunnel.take().getKey());
  }

  @Test
  void aFlowKeepsItsInstanceEvenWhenThePolicyWouldChooseAnother() {
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 6, Pkt.tcp(3333, 80, SYN, 0, 0)));
    assertEquals(N2, h.tunnel.take().getKey());
    h.pick = 1;
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 6, Pkt.tcp(3333, 80, ACK, 0, 0)));
    assertEquals(N2, h.tunnel.take().getKey());
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 6, Pkt.tcp(3334, 80, SYN, 0, 0)));
    assertTrue(h.tunnel.sent.isEmpty());
    assertAddresses(h.io.take(), "172.30.1.1", "10.1.0.3");
  }

  @Test
  void packetsFromUnknownSourcesAndStrayIcmpAreCounted() {
    h.fromTun(Pkt.v4("10.1.0.66", "172.30.0.10", 17, Pkt.udp(1, 2, 0)));
    assertEquals(1, h.count(Counter.DROP_UNKNOWN_SOURCE));
    byte[] redirect = Pkt.v4("10.1.0.2", "172.30.0.10", 1, Pkt.icmpError(5, 0, 0, new byte[28]));
    redirect[20] = 13; // timestamp: neither echo nor error
    Pkt.fill(redirect);
    h.fromTun(redirect);
    assertEquals(1, h.count(Counter.DROP_ICMP_OTHER));
    assertNotEquals(0, h.translator.drops());
    assertTrue(h.tunnel.sent.isEmpty());
  }

  @Test
  void flowsExpireByProtocolStateAndTheTableIsBounded() throws Exception {
    h.close();
    h = new Harness(SemnetTranslator.builder().tunnelOverhead(60).maxFlows(4)
        .udpTimeout(Duration.ofMillis(50)).tcpClosingTimeout(Duration.ofMillis(50))
        .tcpEstablishedTimeout(Duration.ofHours(1)).sweepInterval(Duration.ofMillis(20)));
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 6, Pkt.tcp(1, 80, SYN, 0, 0)));
    h.fromPeer(N2, Pkt.v4("172.30.2.1", "172.30.1.1", 6, Pkt.tcp(80, 1, SYN | ACK, 0, 0)));
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 6, Pkt.tcp(2, 80, SYN, 0, 0)));
    h.fromPeer(N2, Pkt.v4("172.30.2.1", "172.30.1.1", 6, Pkt.tcp(80, 2, SYN | ACK, 0, 0)));
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 6, Pkt.tcp(2, 80, RST, 0, 0)));
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(3, 53, 0)));
    assertEquals(3, h.translator.flowCount());
    Thread.sleep(400);
    h.translator.onPacketBatchEnd();
    assertEquals(1, h.translator.flowCount(), "UDP idle and RST flows expired, the established one lives");
    assertEquals(2, h.count(Counter.FLOWS_EXPIRED));
    assertEquals(1, h.view.activeFlows(h.server0.key()));
    for (int p = 10; p < 20; p++) {
      h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 6, Pkt.tcp(p, 80, SYN, 0, 0)));
    }
    assertTrue(h.translator.flowCount() <= 4);
    assertTrue(h.count(Counter.FLOWS_EVICTED) >= 7);
    assertEquals(h.translator.flowCount(), h.view.activeFlows(h.server0.key()), "view follows the table");
  }

  @Test
  void batchesFlushTheTunnelAndTheTunOnce() {
    h.tunnel.flushes.set(0);
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect(2048);
    for (int i = 0; i < 5; i++) {
      b.clear();
      b.put(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(100 + i, 53, 8))).flip();
      h.translator.onPacket(b);
    }
    assertEquals(0, h.tunnel.flushes.get());
    h.translator.onPacketBatchEnd();
    assertEquals(5, h.tunnel.sent.size());
    assertEquals(1, h.tunnel.flushes.get());
  }

  @Test
  void viewReportsUnknownLatencyUntilAHandshakeCompletes() {
    assertEquals(NodeView.UNKNOWN, h.view.setupLatencyNanos(h.server0.key()));
    assertEquals(N1.nodeId(), h.view.localNodeId());
  }

  @Test
  void parkedPacketsTimeOutAndAnUnreachableResolverDropsThem() throws Exception {
    h.close();
    h = new Harness(SemnetTranslator.builder().tunnelOverhead(60).parkTimeout(Duration.ofMillis(50))
        .sweepInterval(Duration.ofMillis(20)));
    h.resolver.hold = true;
    h.resolver.uncached.put(ip("172.30.0.10"), true);
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(6100, 53, 1)));
    assertEquals(1, h.translator.parkedCount());
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (h.count(Counter.DROP_PARK_TIMEOUT) == 0 && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertEquals(1, h.count(Counter.DROP_PARK_TIMEOUT));
    assertEquals(0, h.translator.parkedCount());
    // a late answer finds nothing left to send
    h.resolver.release(ip("172.30.0.10"));
    assertTrue(h.tunnel.sent.isEmpty());

    h.resolver.uncached.put(ip("172.30.0.10"), true);
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(6101, 53, 1)));
    h.resolver.held.remove(ip("172.30.0.10")).completeExceptionally(new java.io.IOException("cluster unreachable"));
    assertEquals(1, h.count(Counter.DROP_RESOLVER_UNAVAILABLE));
    assertTrue(h.tunnel.sent.isEmpty());
    assertTrue(h.io.written.isEmpty(), "no unreachable while the answer is unknown");
  }

  @Test
  void aRemovedServiceTakesItsFlowsWith() throws Exception {
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(6200, 53, 1)));
    assertEquals(1, h.translator.flowCount());
    for (io.semnet.core.route.RouteListener l : h.resolver.listeners) {
      l.onServiceRemoved(Harness.SERVER);
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (h.translator.flowCount() != 0 && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertEquals(0, h.translator.flowCount());
    assertEquals(0, h.view.activeFlows(h.server0.key()));
  }

  @Test
  void anMssOptionAfterPaddingIsClampedWithAValidChecksum() {
    byte[] t = Pkt.tcp(6300, 80, SYN, 0, 0);
    byte[] withOpt = new byte[28];
    System.arraycopy(t, 0, withOpt, 0, 20);
    withOpt[12] = (byte) 0x70; // 28-byte header
    // NOP, MSS(9000) at an odd offset, NOP, EOL...
    byte[] opts = {1, 2, 4, 0x23, 0x28, 1, 0, 0};
    System.arraycopy(opts, 0, withOpt, 20, opts.length);
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 6, withOpt));
    byte[] p = h.tunnel.take().getValue();
    assertEquals(1400, Pkt.u16(p, 20 + 23));
    assertChecksums(p);
  }
}
