package io.semnet.metrics;

import static io.semnet.metrics.testing.NodeFixture.sendBlind;
import static io.semnet.metrics.testing.NodeFixture.sendUntilReceived;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.Addresses;
import io.semnet.metrics.testing.NodeFixture;
import io.semnet.metrics.testing.PrometheusServer;
import io.semnet.node.Attachment;
import io.semnet.node.WorkerNode;
import io.semnet.node.admin.AdminServer;
import io.semnet.proxy.Counter;
import io.semnet.testing.Privileged;
import java.net.DatagramSocket;
import java.net.InetAddress;
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
  private static final int FLOWS = 5;
  private static final int REFUSED = 12;
  private NodeFixture fx;

  @BeforeEach
  void setUp() {
    fx = new NodeFixture();
  }

  @AfterEach
  void tearDown() {
    fx.close();
  }

  @Test
  void prometheusSeesTheFlowsAndDropsTheTrafficCaused() throws Exception {
    long t0 = System.nanoTime();
    String nodeNs = fx.net.namespace("pmnode");
    String aNs = fx.net.namespace("pma");
    String bNs = fx.net.namespace("pmb");
    String cNs = fx.net.namespace("pmc");
    try (WorkerNode node = fx.node("w1", nodeNs, "10.99.0.1").start();
        NodeAdmin admin = NodeAdmin.of(node);
        AdminServer server = admin.install(AdminServer.builder()).build().start()) {
      fx.place(node, bNs, fx.web);
      Attachment a = fx.place(node, aNs, fx.client);
      Attachment c = fx.place(node, cNs, fx.outsider);
      InetAddress serviceIp = fx.serviceIp(fx.web);
      String flows = "semnet_translator_new_flows_total{service_ip=\"" + Addresses.format(serviceIp) + "\",policy=\"rr\"}";
      String drops = "semnet_translator_drops_total{reason=\"not_permitted\"}";

      PrometheusServer prom = new PrometheusServer(fx.net, "127.0.0.1:" + server.address().getPort());
      long tProm = System.nanoTime();
      prom.awaitTargetUp(Duration.ofSeconds(30));
      long tUp = System.nanoTime();
      assertEquals(0, prom.value(drops), "no drop before the traffic");
      assertTrue(Double.isNaN(prom.value(flows)), "no series for a ServiceIP nobody contacted yet");

      try (DatagramSocket web = NodeFixture.listen(bNs)) {
        // A first flow fetches the route (its first packets park; retries may open more than one flow).
        assertTrue(sendUntilReceived(aNs, a.ipv4(), serviceIp, web), "the first flow reached the web instance");
        long warm = node.translator().counter(Counter.FLOWS_CREATED);
        prom.awaitValue(flows, warm, Duration.ofSeconds(20));
        for (int i = 0; i < FLOWS; i++) { // with the route cached: one socket, one source port, exactly one flow each
          assertTrue(sendUntilReceived(aNs, a.ipv4(), serviceIp, web), "flow " + i + " reached the web instance");
        }
        sendBlind(cNs, c.ipv4(), serviceIp, REFUSED); // the outsider may not reach web: refused by the translator
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
}
