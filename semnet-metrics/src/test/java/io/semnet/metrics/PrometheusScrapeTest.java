package io.semnet.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.control.InProcessControlPlane;
import io.semnet.control.ServiceDescriptor;
import io.semnet.core.address.Addresses;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.service.ServiceId;
import io.semnet.node.Attachment;
import io.semnet.node.InstanceTarget;
import io.semnet.node.WorkerNode;
import io.semnet.node.admin.AdminServer;
import io.semnet.proxy.Counter;
import io.semnet.proxy.tun.NetworkNamespace;
import io.semnet.resolver.NodeRegistration;
import io.semnet.testing.Privileged;
import io.semnet.testing.TestNetwork;
import io.semnet.tunnel.NodeKeys;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A real Prometheus scrapes a running worker node's {@code /metrics} (its admin server on loopback)
 * every second; the test sends traffic through the node's translator and asserts, through
 * Prometheus's query API, that the per-ServiceIP new-flow counter counted exactly the flows the
 * test opened and the drop counter exactly the packets the isolation rules refused.
 */
@Privileged
class PrometheusScrapeTest {
  private static final int PORT = 7000;
  private static final int FLOWS = 5;
  private static final int REFUSED = 12;
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
  void prometheusSeesTheFlowsAndDropsTheTrafficCaused() throws Exception {
    long t0 = System.nanoTime();
    String nodeNs = net.namespace("pmnode");
    String aNs = net.namespace("pma");
    String bNs = net.namespace("pmb");
    String cNs = net.namespace("pmc");
    NodeKeys keys = NodeKeys.generate();
    WorkerEndpoint ep = WorkerEndpoint.of("w1", new InetSocketAddress("10.99.0.1", 51820), keys.publicKey());
    NodeRegistration reg = cp.orchestration().registerNode("c1", ep, GeoPoint.of(48.1, 11.6));
    try (WorkerNode node = WorkerNode.builder(reg).plan(plan).keys(keys).rootTrust(cp.authority().trust())
            .controlTransport(cp.transport()).namespace(nodeNs).nameResponder(false).build().start();
        NodeAdmin admin = NodeAdmin.of(node);
        AdminServer server = admin.install(AdminServer.builder()).build().start()) {
      place(node, bNs, web);
      Attachment a = place(node, aNs, client);
      Attachment c = place(node, cNs, outsider);
      InetAddress serviceIp = cp.orchestration().record(web).serviceIp("rr", true).address();
      String flows = "semnet_translator_new_flows_total{service_ip=\"" + Addresses.format(serviceIp) + "\",policy=\"rr\"}";
      String drops = "semnet_translator_drops_total{reason=\"not_permitted\"}";

      PrometheusServer prom = new PrometheusServer(net, "127.0.0.1:" + server.address().getPort());
      long tProm = System.nanoTime();
      prom.awaitTargetUp(Duration.ofSeconds(30));
      long tUp = System.nanoTime();
      assertEquals(0, prom.value(drops), "no drop before the traffic");
      assertTrue(Double.isNaN(prom.value(flows)), "no series for a ServiceIP nobody contacted yet");

      try (DatagramSocket web = NetworkNamespace.run(bNs, () -> new DatagramSocket(new InetSocketAddress("0.0.0.0", PORT)))) {
        web.setSoTimeout(100);
        // A first flow fetches the route (its first packets park; retries may open more than one flow).
        assertTrue(sendUntilReceived(aNs, a.ipv4(), serviceIp, web), "the first flow reached the web instance");
        long warm = node.translator().counter(Counter.FLOWS_CREATED);
        prom.awaitValue(flows, warm, Duration.ofSeconds(20));
        for (int i = 0; i < FLOWS; i++) { // with the route cached: one socket, one source port, exactly one flow each
          assertTrue(sendUntilReceived(aNs, a.ipv4(), serviceIp, web), "flow " + i + " reached the web instance");
        }
        sendBlind(cNs, c.ipv4(), serviceIp, REFUSED); // the outsider may not reach web: refused by the translator
        long tTraffic = System.nanoTime();
        long refused = node.translator().counter(Counter.DROP_NOT_PERMITTED);
        assertTrue(refused >= 1, "the translator refused the outsider");
        assertEquals(warm + FLOWS, node.translator().counter(Counter.FLOWS_CREATED), "one flow per socket");
        Duration seen = prom.awaitValue(flows, warm + FLOWS, Duration.ofSeconds(20));
        prom.awaitValue(drops, refused, Duration.ofSeconds(20));
        assertEquals(warm + FLOWS, prom.value("sum(semnet_translator_new_flows_total)"), "no other ServiceIP counted a flow");
        System.out.printf("PrometheusScrapeTest: prometheus up and scraping after %d ms; %d flows (+%d warm-up) and %d refused"
            + " packets (of %d sent) seen through it %d ms after the traffic; whole test %.1f s%n", (tUp - tProm) / 1_000_000, FLOWS,
            warm, refused, REFUSED, seen.toMillis(), (System.nanoTime() - t0) / 1e9);
      }
    }
  }

  private Attachment place(WorkerNode node, String ns, ServiceId s) {
    return node.attach(InstanceTarget.netns(ns), loc -> cp.orchestration().placeInstance(s, 0, loc).instance(0));
  }

  /** From a fresh socket (one flow), sends every 100 ms until the server receives one; at most 10 s. */
  private static boolean sendUntilReceived(String ns, InetAddress src, InetAddress dst, DatagramSocket server) throws Exception {
    try (DatagramSocket s = NetworkNamespace.run(ns, () -> new DatagramSocket(new InetSocketAddress(src, 0)))) {
      for (int i = 0; i < 100; i++) {
        s.send(new DatagramPacket("hello".getBytes(StandardCharsets.US_ASCII), 5, new InetSocketAddress(dst, PORT)));
        try {
          server.receive(new DatagramPacket(new byte[64], 64));
          return true;
        } catch (SocketTimeoutException e) {
          // parked while the route is fetched, or ARP
        }
      }
    }
    return false;
  }

  private static void sendBlind(String ns, InetAddress src, InetAddress dst, int count) throws Exception {
    try (DatagramSocket s = NetworkNamespace.run(ns, () -> new DatagramSocket(new InetSocketAddress(src, 0)))) {
      for (int i = 0; i < count; i++) {
        s.send(new DatagramPacket("nope".getBytes(StandardCharsets.US_ASCII), 4, new InetSocketAddress(dst, PORT)));
        Thread.sleep(20);
      }
    }
    Thread.sleep(300); // let the node's TUN reader take them
  }
}
