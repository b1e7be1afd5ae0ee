package io.semnet.mdns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.service.ServiceId;
import io.semnet.mdns.ResponderCounters.Counter;
import io.semnet.mdns.testing.FakeResolver;
import io.semnet.mdns.testing.Netns;
import io.semnet.mdns.testing.Policies;
import io.semnet.testing.Privileged;
import io.semnet.testing.TestNetwork;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The responder in a node namespace with a bridge, queried by real clients from an instance
 * namespace attached to that bridge: dig (unicast UDP and TCP, legacy-unicast mDNS), glibc through
 * getent with a namespace resolv.conf, and a true mDNS querier on port 5353 (scapy). Out-of-zone
 * names go to a dnsmasq the test starts in its own namespace.
 */
@Privileged
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ResponderNamespaceTest {
  static final ServiceId API = ServiceId.of("shop", "prod", "api", "backend");
  static final String INSTANCE0 = "shop.prod.api.backend.0.none.local";
  static final String SERVICE_RR = "shop.prod.api.backend.any.rr.local";
  static final String INVALID = "shop.prod.api.backend.0.rr.local";
  static final String UNKNOWN = "shop.prod.nothing.backend.0.none.local";
  static final String BRIDGE_V4 = "10.77.0.1";
  static final String CLIENT_V4 = "10.77.0.2";
  static final String ANCESTOR = "backend.any.rr.local";
  /** Six 250-byte strings: a TXT answer too big for dig's 1232-byte EDNS buffer, so UDP truncates. */
  static final List<String> BIG_TXT = java.util.stream.IntStream.range(0, 6)
      .mapToObj(i -> String.valueOf((char) ('a' + i)).repeat(249) + i).toList();

  TestNetwork net;
  String node;
  String client;
  String clientIf;
  String upstream;
  FakeResolver resolver;
  SemanticNameResponder responder;
  Path script;

  @BeforeAll
  void topology() throws Exception {
    net = new TestNetwork();
    try {
      node = net.namespace("node");
      client = net.namespace("cli");
      upstream = net.namespace("up");
      String br = net.name("br");
      net.exec(node, "ip", "link", "add", br, "type", "bridge");
      net.exec(node, "ip", "addr", "add", BRIDGE_V4 + "/24", "dev", br);
      net.exec(node, "ip", "addr", "add", "fd77::1/64", "dev", br, "nodad");
      net.exec(node, "ip", "link", "set", br, "up");
      clientIf = net.name("c");
      String clientPeer = net.name("cp");
      net.veth(client, clientIf, CLIENT_V4 + "/24", node, clientPeer, null);
      net.exec(client, "ip", "addr", "add", "fd77::2/64", "dev", clientIf, "nodad");
      net.exec(node, "ip", "link", "set", clientPeer, "master", br);
      net.exec(client, "ip", "route", "add", "224.0.0.0/4", "dev", clientIf);
      net.veth(node, net.name("u"), "10.77.9.1/30", upstream, net.name("up"), "10.77.9.2/30");
      // The upstream namespace is routed to the bridge subnet but is not on the bridge's link.
      net.exec(upstream, "ip", "route", "add", "10.77.0.0/24", "via", "10.77.9.1");
      net.exec(node, "sysctl", "-qw", "net.ipv4.ip_forward=1");
      net.start(upstream, "dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts", "--bind-interfaces",
          "--listen-address=10.77.9.2", "--pid-file=", "--user=root",
          "--address=/example.test/192.0.2.55", "--log-facility=-",
          "--txt-record=big.example.test," + String.join(",", BIG_TXT));
      net.resolvConf(client, BRIDGE_V4);
      // Wait for the bridge port to forward (no STP by default, but give the link a moment).
      waitFor(() -> net.tryExec(client, 5, "ping", "-c", "1", "-W", "1", BRIDGE_V4).exitCode == 0, "bridge up");
      waitFor(() -> net.tryExec(node, 5, "dig", "+short", "+tries=1", "+timeout=1", "@10.77.9.2", "www.example.test").output.contains("192.0.2.55"), "dnsmasq up");

      resolver = new FakeResolver();
      resolver.put(FakeResolver.record(API, 1, "172.30.0.10", "fdff::10", "172.30.1.1", "fdff::1:1"));
      responder = SemanticNameResponder.builder()
          .bridgeInterface(br)
          .bridgeAddresses(BRIDGE_V4 + "/24", "fd77::1/64")
          .upstreams("10.77.9.2")
          .resolver(resolver)
          .policies(Policies.of("rr"))
          .build();
      Netns.call(node, () -> {
        responder.start(null);
        return null;
      });
      script = Files.createTempFile("mdns_query", ".py");
      try (InputStream in = getClass().getResourceAsStream("mdns_query.py")) {
        Files.write(script, in.readAllBytes());
      }
    } catch (Exception | Error e) {
      cleanup();
      throw e;
    }
  }

  @AfterAll
  void cleanup() throws IOException {
    if (responder != null) {
      responder.close();
    }
    if (resolver != null) {
      resolver.close();
    }
    if (net != null) {
      net.close();
    }
    if (script != null) {
      Files.deleteIfExists(script);
    }
  }

  interface Check {
    boolean ok() throws Exception;
  }

  static void waitFor(Check c, String what) throws Exception {
    for (int i = 0; i < 50; i++) {
      if (c.ok()) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("timed out waiting for " + what);
  }

  private TestNetwork.Result dig(String... args) {
    String[] cmd = new String[args.length + 4];
    cmd[0] = "dig";
    cmd[1] = "+tries=1";
    cmd[2] = "+timeout=2";
    cmd[3] = "+nocookie";
    System.arraycopy(args, 0, cmd, 4, args.length);
    return net.tryExec(client, 10, cmd);
  }

  @Test
  void digUnicastAnswersInstanceAndServiceNames() {
    String a = dig("@" + BRIDGE_V4, INSTANCE0, "A").output;
    assertTrue(a.contains("status: NOERROR"), a);
    assertTrue(a.matches("(?s).*" + INSTANCE0.replace(".", "\\.") + "\\.\\s+30\\s+IN\\s+A\\s+172\\.30\\.1\\.1.*"), a);
    assertTrue(a.contains("flags: qr aa rd"), a);
    String aaaa = dig("@" + BRIDGE_V4, SERVICE_RR, "AAAA").output;
    assertTrue(aaaa.contains("IN\tAAAA\tfdff::10") || aaaa.matches("(?s).*AAAA\\s+fdff::10.*"), aaaa);
    String overV6 = dig("@fd77::1", SERVICE_RR, "A").output;
    assertTrue(overV6.matches("(?s).*IN\\s+A\\s+172\\.30\\.0\\.10.*"), overV6);
    String tcp = dig("+tcp", "@" + BRIDGE_V4, INSTANCE0, "AAAA").output;
    assertTrue(tcp.matches("(?s).*AAAA\\s+fdff::1:1.*"), tcp);
    assertTrue(responder.counters().get(Counter.UNICAST_TCP_QUERIES) >= 1);
  }

  @Test
  void digUnicastGivesNxdomainForInvalidAndUnknownNamesAndNoSoaForLocal() {
    String invalid = dig("@" + BRIDGE_V4, INVALID, "A").output;
    assertTrue(invalid.contains("status: NXDOMAIN"), invalid);
    String unknown = dig("@" + BRIDGE_V4, UNKNOWN, "A").output;
    assertTrue(unknown.contains("status: NXDOMAIN"), unknown);
    assertTrue(unknown.contains("AUTHORITY: 0"), unknown);
    String soa = dig("@" + BRIDGE_V4, "local.", "SOA").output;
    assertTrue(soa.contains("status: NOERROR") && soa.contains("ANSWER: 0") && soa.contains("AUTHORITY: 0"), soa);
  }

  @Test
  void glibcResolvesThroughTheNamespaceResolvConf() {
    TestNetwork.Result v4 = net.tryExec(client, 10, "getent", "ahostsv4", INSTANCE0);
    assertEquals(0, v4.exitCode, v4.output);
    assertTrue(v4.output.startsWith("172.30.1.1"), v4.output);
    TestNetwork.Result hosts = net.tryExec(client, 10, "getent", "hosts", SERVICE_RR);
    assertEquals(0, hosts.exitCode, hosts.output);
    assertTrue(hosts.output.startsWith("fdff::10") || hosts.output.startsWith("172.30.0.10"), hosts.output);
    TestNetwork.Result invalid = net.tryExec(client, 10, "getent", "hosts", INVALID);
    assertEquals(2, invalid.exitCode, invalid.output);
    TestNetwork.Result unknown = net.tryExec(client, 10, "getent", "ahostsv4", UNKNOWN);
    assertEquals(2, unknown.exitCode, unknown.output);
  }

  /**
   * dig 9.18 connects its UDP socket to the server it asks, so the kernel drops any reply whose
   * source is not that server; a reply to {@code dig @224.0.0.251} would have to come from a
   * multicast source address, which no host may send (RFC 1122) and Linux drops as martian. So dig
   * exercises legacy unicast against the bridge address on port 5353 (RFC 6762 §5.5), and the
   * multicast-destined legacy query is sent by an unconnected querier in {@link #legacyUnicastToTheGroup}.
   */
  @Test
  void digLegacyUnicastMdns() {
    TestNetwork.Result r = dig("-p", "5353", "@" + BRIDGE_V4, INSTANCE0, "A");
    assertEquals(0, r.exitCode, r.output);
    assertTrue(r.output.matches("(?s).*" + INSTANCE0.replace(".", "\\.") + "\\.\\s+10\\s+IN\\s+A\\s+172\\.30\\.1\\.1.*"), r.output);
    assertTrue(r.output.contains("QUERY: 1, ANSWER: 1"), r.output);
    TestNetwork.Result v6 = dig("-p", "5353", "@fd77::1", SERVICE_RR, "AAAA");
    assertTrue(v6.output.matches("(?s).*\\s10\\s+IN\\s+AAAA\\s+fdff::10.*"), v6.output);
    // Names the node does not own: silence, so dig times out.
    long before = responder.counters().get(Counter.MDNS_NOT_OWNED);
    TestNetwork.Result invalid = dig("-p", "5353", "@" + BRIDGE_V4, INVALID, "A");
    assertNotEquals(0, invalid.exitCode, invalid.output);
    assertFalse(invalid.output.contains("status:"), invalid.output);
    assertTrue(responder.counters().get(Counter.MDNS_NOT_OWNED) > before);
  }

  @Test
  void legacyUnicastToTheGroup() {
    List<String> r = mdnsQuery(INSTANCE0, 1, "legacy");
    assertEquals(1, r.size(), r.toString());
    assertTrue(r.get(0).startsWith("UNICAST from=" + BRIDGE_V4 + ":5353 id=10794 qd=1 name=" + INSTANCE0
        + ". type=1 class=1 ttl=10 rdata=172.30.1.1"), r.get(0));
    assertEquals(List.of(), mdnsQuery(UNKNOWN, 1, "legacy"));
  }

  private List<String> mdnsQuery(String name, int qtype, String mode) {
    return mdnsQuery(CLIENT_V4, name, qtype, mode);
  }

  private List<String> mdnsQuery(String source, String name, int qtype, String mode) {
    TestNetwork.Result r = net.tryExec(client, 20, "/usr/bin/python3", script.toString(), source, name,
        Integer.toString(qtype), mode, "1.5", clientIf);
    assertTrue(r.output.contains("DONE"), r.output);
    return r.output.lines().filter(l -> l.startsWith("MULTICAST") || l.startsWith("UNICAST")).toList();
  }

  @Test
  void trueMulticastQueriesQmAndQu() {
    List<String> qm = mdnsQuery(INSTANCE0, 1, "qm");
    assertEquals(1, qm.size(), qm.toString());
    String line = qm.get(0);
    assertTrue(line.startsWith("MULTICAST from=" + BRIDGE_V4 + ":5353 id=0 qd=0 name=" + INSTANCE0 + ". type=1 class=32769 ttl=30 rdata=172.30.1.1"), line);
    List<String> qu = mdnsQuery(SERVICE_RR, 28, "qu");
    assertEquals(1, qu.size(), qu.toString());
    assertTrue(qu.get(0).startsWith("UNICAST from=" + BRIDGE_V4 + ":5353"), qu.get(0));
    assertTrue(qu.get(0).contains("type=28 class=32769 ttl=30 rdata=fdff::10"), qu.get(0));
    assertEquals(List.of(), mdnsQuery(UNKNOWN, 1, "qm"), "silent for names it does not own");
    assertEquals(List.of(), mdnsQuery(INVALID, 1, "qu"), "silent for impossible names");
  }

  @Test
  void trueMulticastQueriesOverIpv6() {
    List<String> qm = mdnsQuery("fd77::2", INSTANCE0, 28, "qm");
    assertEquals(1, qm.size(), qm.toString());
    assertTrue(qm.get(0).startsWith("MULTICAST from=fe80:"), qm.get(0));
    assertTrue(qm.get(0).contains("type=28 class=32769 ttl=30 rdata=fdff::1:1"), qm.get(0));
    List<String> qu = mdnsQuery("fd77::2", SERVICE_RR, 1, "qu");
    assertEquals(1, qu.size(), qu.toString());
    assertTrue(qu.get(0).startsWith("UNICAST from="), qu.get(0));
    assertTrue(qu.get(0).contains("type=1 class=32769 ttl=30 rdata=172.30.0.10"), qu.get(0));
    assertEquals(List.of(), mdnsQuery("fd77::2", UNKNOWN, 28, "qm"));
  }

  @Test
  void outOfZoneNamesAreForwardedToTheUpstream() {
    String r = dig("@" + BRIDGE_V4, "www.example.test", "A").output;
    assertTrue(r.matches("(?s).*www\\.example\\.test\\.\\s+\\d+\\s+IN\\s+A\\s+192\\.0\\.2\\.55.*"), r);
    assertTrue(responder.counters().get(Counter.FORWARD_RELAYED) >= 1);
    TestNetwork.Result glibc = net.tryExec(client, 10, "getent", "ahostsv4", "api.example.test");
    assertTrue(glibc.output.startsWith("192.0.2.55"), glibc.output);
  }

  /** dig (EDNS 1232) gets the truncated answer, retries over TCP, and the forwarder fetches it over TCP. */
  @Test
  void aTruncatedUpstreamAnswerIsFetchedOverTcp() {
    long before = responder.counters().get(Counter.FORWARD_TCP_RETRIES);
    String r = dig("@" + BRIDGE_V4, "big.example.test", "TXT").output;
    assertTrue(r.contains("status: NOERROR"), r);
    for (String chunk : BIG_TXT) {
      assertTrue(r.contains(chunk), r);
    }
    assertTrue(responder.counters().get(Counter.FORWARD_TCP_RETRIES) >= before + 1, responder.counters().toString());
  }

  /** RFC 8020: an ancestor of semantic names is NODATA for dig, and mDNS does not answer it. */
  @Test
  void digGetsNodataForAncestorsAndMdnsStaysSilent() {
    String r = dig("@" + BRIDGE_V4, ANCESTOR, "A").output;
    assertTrue(r.contains("status: NOERROR") && r.contains("ANSWER: 0") && r.contains("AUTHORITY: 0"), r);
    String tcp = dig("+tcp", "@" + BRIDGE_V4, "0.none.local", "AAAA").output;
    assertTrue(tcp.contains("status: NOERROR") && tcp.contains("ANSWER: 0"), tcp);
    TestNetwork.Result mdns = dig("-p", "5353", "@" + BRIDGE_V4, ANCESTOR, "A");
    assertNotEquals(0, mdns.exitCode, mdns.output);
    assertFalse(mdns.output.contains("status:"), mdns.output);
    assertEquals(List.of(), mdnsQuery(ANCESTOR, 1, "qm"), "silent for names it does not own");
  }

  @Test
  void queriesFromOffTheLinkAreRefusedOrIgnored() {
    TestNetwork.Result r = net.tryExec(upstream, 10, "dig", "+tries=1", "+timeout=2", "@" + BRIDGE_V4, INSTANCE0, "A");
    assertTrue(r.output.contains("status: REFUSED"), r.output);
    assertTrue(responder.counters().get(Counter.OFF_LINK) >= 1);
  }

  @Test
  void garbageFromARealClientIsCountedAndTheResponderKeepsAnswering() {
    long formerr = responder.counters().get(Counter.FORMERR);
    long mdnsDropped = responder.counters().get(Counter.MDNS_DROPPED) + responder.counters().get(Counter.MALFORMED_DROPPED);
    String py = String.join("\n",
        "import os, socket",
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
        "s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton('" + CLIENT_V4 + "'))",
        "loop = bytes([0,1,0,0,0,1,0,0,0,0,0,0,0xc0,12,0,1,0,1])",
        "for p in [b'', b'x', loop, os.urandom(9000), bytes(12) + b'\\x3f' + b'a' * 10]:",
        "    s.sendto(p, ('" + BRIDGE_V4 + "', 53))",
        "    s.sendto(p, ('224.0.0.251', 5353))",
        "print('sent')");
    TestNetwork.Result r = net.tryExec(client, 10, "/usr/bin/python3", "-c", py);
    assertTrue(r.output.contains("sent"), r.output);
    String ok = dig("@" + BRIDGE_V4, INSTANCE0, "A").output;
    assertTrue(ok.contains("172.30.1.1"), ok);
    assertTrue(responder.counters().get(Counter.FORMERR) >= formerr + 2, responder.counters().toString());
    assertTrue(responder.counters().get(Counter.MDNS_DROPPED) + responder.counters().get(Counter.MALFORMED_DROPPED)
        >= mdnsDropped + 2, responder.counters().toString());
  }

  @Test
  void pushedRemovalStopsResolutionAtOnce() throws Exception {
    ServiceId tmp = ServiceId.of("tmp", "prod", "job", "batch");
    String name = "tmp.prod.job.batch.0.none.local";
    resolver.put(FakeResolver.record(tmp, 1, "172.30.0.40", "fdff::40", "172.30.4.1", null));
    assertTrue(dig("@" + BRIDGE_V4, name, "A").output.contains("172.30.4.1"));
    resolver.remove(tmp);
    waitFor(() -> dig("@" + BRIDGE_V4, name, "A").output.contains("status: NXDOMAIN"), "NXDOMAIN after removal");
  }
}
