package io.semnet.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.control.InProcessControlPlane;
import io.semnet.control.ServiceDescriptor;
import io.semnet.core.address.Addresses;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.service.ServiceId;
import io.semnet.proxy.Counter;
import io.semnet.proxy.tun.NetworkNamespace;
import io.semnet.testing.Privileged;
import io.semnet.testing.TestNetwork;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Local anti-spoofing and isolation on a node, with real instances in network namespaces: an
 * instance sends only with its own MAC and addresses (spoofing another instance's namespace IP, an
 * InstanceIP or any other address is dropped and counted by the node), cannot reach another
 * instance's namespace IP across the bridge or through the node's routing, and reaches it through
 * its InstanceIP or ServiceIP exactly when the isolation rules allow; detaching removes every rule,
 * set element and host route of the instance, closing the node the whole tables.
 */
@Privileged
class AntiSpoofingTest {
  private static final int PORT = 7000;
  private final AddressPlan plan = AddressPlan.defaults();
  private final ServiceId web = ServiceId.of("web", "tum", "hello", "prod");
  private final ServiceId client = ServiceId.of("cli", "tum", "client", "prod");
  private final ServiceId outsider = ServiceId.of("cli", "evil", "client", "prod");
  private TestNetwork net;
  private InProcessControlPlane cp;

  @BeforeEach
  void setUp() {
    net = new TestNetwork();
    cp = InProcessControlPlane.builder().clusters("c1").plan(plan).build();
    for (ServiceId s : new ServiceId[] {web, client, outsider}) {
      cp.orchestration().deploy(ServiceDescriptor.builder(s).instances(1).build());
    }
  }

  @AfterEach
  void tearDown() {
    cp.close();
    net.close();
  }

  @Test
  void anInstanceSendsOnlyWithItsOwnAddressesAndMac() throws Exception {
    String nodeNs = net.namespace("node");
    String aNs = net.namespace("a");
    String bNs = net.namespace("b");
    try (WorkerNode node = node("w1", nodeNs, "10.99.0.1").start()) {
      Attachment b = place(node, bNs, web);
      Attachment a = place(node, aNs, client);
      InetAddress bInstanceIp = b.record().instanceIpv4().address();
      InetAddress serviceIp = cp.orchestration().record(web).serviceIp("rr", true).address();
      try (DatagramSocket server = listen(bNs)) {
        // the real source passes, translated to A's InstanceIP
        DatagramPacket got = sendUntilReceived(aNs, a.ipv4(), serviceIp, server);
        assertEquals(a.record().instanceIpv4().address(), got.getAddress(), "B sees A by its InstanceIP");

        long before = node.spoofedDrops();
        long unknown = node.translator().counter(Counter.DROP_UNKNOWN_SOURCE);
        InetAddress[] spoofs = {b.ipv4(), bInstanceIp, InetAddress.getByName("10.77.0.9")};
        for (InetAddress spoof : spoofs) {
          net.exec(aNs, "ip", "addr", "add", Addresses.format(spoof) + "/32", "dev", "eth0");
          assertNothingReceived(aNs, spoof, serviceIp, server, "spoofing " + Addresses.format(spoof));
          assertTrue(node.spoofedDrops() > before, "spoofing " + Addresses.format(spoof) + " is dropped and counted by the node");
          before = node.spoofedDrops();
          net.exec(aNs, "ip", "addr", "del", Addresses.format(spoof) + "/32", "dev", "eth0");
        }
        assertEquals(unknown, node.translator().counter(Counter.DROP_UNKNOWN_SOURCE), "spoofed packets never reach the translator");

        // its own address from another MAC address is dropped too
        net.exec(aNs, "ip", "link", "set", "eth0", "address", "02:00:5e:10:00:99");
        assertNothingReceived(aNs, a.ipv4(), serviceIp, server, "a changed MAC");
        assertTrue(node.spoofedDrops() > before);
      }
    }
  }

  @Test
  void instancesReachEachOtherOnlyThroughTheTunAndTheIsolationRules() throws Exception {
    String nodeNs = net.namespace("node");
    String aNs = net.namespace("a");
    String bNs = net.namespace("b");
    String cNs = net.namespace("c");
    try (WorkerNode node = node("w1", nodeNs, "10.99.0.1").start()) {
      Attachment b = place(node, bNs, web);
      Attachment a = place(node, aNs, client);
      Attachment c = place(node, cNs, outsider);
      InetAddress serviceIp = cp.orchestration().record(web).serviceIp("rr", true).address();
      try (DatagramSocket server = listen(bNs)) {
        // A (same app namespace) reaches B by InstanceIP and ServiceIP, through the translator
        assertEquals(a.record().instanceIpv4().address(),
            sendUntilReceived(aNs, a.ipv4(), b.record().instanceIpv4().address(), server).getAddress());
        assertEquals(a.record().instanceIpv4().address(), sendUntilReceived(aNs, a.ipv4(), serviceIp, server).getAddress());
        // C (another app namespace, no grant) does not
        long forbidden = node.translator().counter(Counter.DROP_NOT_PERMITTED);
        assertNothingReceived(cNs, c.ipv4(), serviceIp, server, "C by ServiceIP");
        assertTrue(node.translator().counter(Counter.DROP_NOT_PERMITTED) > forbidden, "the translator refused C");

        // nobody reaches B's namespace IP directly: not across the bridge (same subnet) ...
        assertNothingReceived(aNs, a.ipv4(), b.ipv4(), server, "A to B's namespace IP on the bridge");
        assertNothingReceived(cNs, c.ipv4(), b.ipv4(), server, "C to B's namespace IP on the bridge");
        // ... nor through the node's routing (a host route via the gateway)
        long bypass = node.bypassDrops();
        net.exec(cNs, "ip", "route", "add", Addresses.format(b.ipv4()) + "/32", "via", Addresses.format(node.gatewayIpv4()));
        assertNothingReceived(cNs, c.ipv4(), b.ipv4(), server, "C to B's namespace IP via the gateway");
        assertTrue(node.bypassDrops() > bypass, "the node dropped and counted the routed bypass");
        // the isolated ports still reach the node itself (gateway, name responder)
        assertEquals(0, net.tryExec(aNs, 5, "ping", "-c", "1", "-W", "2", Addresses.format(node.gatewayIpv4())).exitCode);
      }
    }
  }

  @Test
  void detachAndCloseLeaveNoRuleOrRouteBehindAlsoForARestoredInstance() throws Exception {
    String ns1 = net.namespace("n1");
    String ns2 = net.namespace("n2");
    String aNs = net.namespace("a");
    String bNs = net.namespace("b");
    try (WorkerNode from = node("w1", ns1, "10.99.0.1").start(); WorkerNode to = node("w2", ns2, "10.99.0.2").start()) {
      String table = to.antiSpoofingTable();
      assertEquals("semnet-w2", table);
      Attachment a = place(to, aNs, client);
      String bridgeRules = net.exec(ns2, "nft", "list", "table", "bridge", table);
      assertTrue(bridgeRules.contains("port-" + a.hostVeth()), bridgeRules);
      assertTrue(net.exec(ns2, "bridge", "-d", "link", "show", "dev", a.hostVeth()).contains("isolated on"));

      // B migrates from w1 to w2 keeping its namespace IP: pinned to it at w2, with a host route
      Attachment b = place(from, bNs, web);
      from.freeze(b, to.endpoint(), true);
      Attachment restored = to.restore(InstanceTarget.netns(bNs), b.record());
      String kept = Addresses.format(restored.ipv4());
      assertTrue(routes(ns2).contains(kept + " dev snbr"));
      assertTrue(net.exec(ns2, "nft", "list", "set", "inet", table, "instances4").contains(kept));
      assertTrue(net.exec(ns2, "nft", "list", "table", "bridge", table).contains("port-" + restored.hostVeth()));
      // A cannot reach the kept address through w2's routing either
      try (DatagramSocket server = listen(bNs)) {
        assertNothingReceived(aNs, a.ipv4(), restored.ipv4(), server, "A to B's kept namespace IP");
      }

      to.detach(restored);
      to.detach(a);
      assertFalse(routes(ns2).contains(kept + " dev snbr"), "the restored instance's host route is removed");
      String after = net.exec(ns2, "nft", "list", "table", "bridge", table);
      assertFalse(after.contains("port-"), "no port chain or map element left:\n" + after);
      String sets = net.exec(ns2, "nft", "list", "table", "inet", table);
      assertFalse(sets.contains(kept) || sets.contains(Addresses.format(a.ipv4())), "no instance address left:\n" + sets);
      assertNotNull(table);
    }
    for (String ns : new String[] {ns1, ns2}) {
      String tables = net.exec(ns, "nft", "list", "tables");
      assertFalse(tables.contains("semnet-"), "closing the node deletes its tables:\n" + tables);
    }
  }

  @Test
  void antiSpoofingCanBeTurnedOff() throws Exception {
    String nodeNs = net.namespace("node");
    try (WorkerNode node = builder("w1", nodeNs, "10.99.0.1").antiSpoofing(false).build().start()) {
      assertNull(node.antiSpoofingTable());
      assertEquals(0, node.spoofedDrops());
      assertFalse(net.exec(nodeNs, "nft", "list", "tables").contains("semnet-"));
    }
  }

  // ---------------------------------------------------------------- helpers

  private Attachment place(WorkerNode node, String ns, ServiceId s) {
    return node.attach(InstanceTarget.netns(ns), loc -> cp.orchestration().placeInstance(s, 0, loc).instance(0));
  }

  private WorkerNodeBuilder builder(String id, String ns, String underlayIp) {
    return TestNodes.builder(cp, plan, id, ns, underlayIp).nameResponder(false);
  }

  private WorkerNode node(String id, String ns, String underlayIp) {
    return builder(id, ns, underlayIp).build();
  }

  private static DatagramSocket listen(String ns) throws Exception {
    DatagramSocket s = NetworkNamespace.run(ns, () -> new DatagramSocket(new InetSocketAddress("0.0.0.0", PORT)));
    s.setSoTimeout(100);
    return s;
  }

  /** Sends from {@code src} (an address of namespace {@code ns}) every 100 ms until the server gets one; at most 10 s. */
  private static DatagramPacket sendUntilReceived(String ns, InetAddress src, InetAddress dst, DatagramSocket server) throws Exception {
    DatagramPacket p = send(ns, src, dst, server, 100);
    if (p == null) {
      throw new AssertionError("nothing from " + Addresses.format(src) + " reached " + Addresses.format(dst));
    }
    drain(server);
    return p;
  }

  /** Sends 15 datagrams over 1.5 s and asserts that none arrives. */
  private static void assertNothingReceived(String ns, InetAddress src, InetAddress dst, DatagramSocket server, String what)
      throws Exception {
    drain(server);
    DatagramPacket p = send(ns, src, dst, server, 15);
    if (p != null) {
      throw new AssertionError(what + ": a datagram arrived from " + p.getAddress());
    }
  }

  /** Sends up to {@code tries} datagrams, each followed by a wait of up to 100 ms; the first the server received, or null. */
  private static DatagramPacket send(String ns, InetAddress src, InetAddress dst, DatagramSocket server, int tries) throws Exception {
    try (DatagramSocket s = NetworkNamespace.run(ns, () -> new DatagramSocket(new InetSocketAddress(src, 0)))) {
      for (int i = 0; i < tries; i++) {
        s.send(new DatagramPacket("hello".getBytes(StandardCharsets.US_ASCII), 5, new InetSocketAddress(dst, PORT)));
        DatagramPacket p = new DatagramPacket(new byte[64], 64);
        try {
          server.receive(p);
          return p;
        } catch (SocketTimeoutException e) {
          // nothing yet (parked while the route is fetched, ARP, or dropped)
        }
      }
    }
    return null;
  }

  private static void drain(DatagramSocket server) throws Exception {
    byte[] buf = new byte[64];
    int timeout = server.getSoTimeout();
    server.setSoTimeout(1);
    try {
      while (true) {
        server.receive(new DatagramPacket(buf, buf.length));
      }
    } catch (SocketTimeoutException e) {
      // empty
    } finally {
      server.setSoTimeout(timeout);
    }
  }

  private String routes(String ns) {
    return TestNodes.routes(net, ns);
  }
}
