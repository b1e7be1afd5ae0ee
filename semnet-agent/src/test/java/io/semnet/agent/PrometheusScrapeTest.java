package io.semnet.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.semnet.control.RemoteOrchestration;
import io.semnet.control.ServiceDescriptor;
import io.semnet.core.address.Addresses;
import io.semnet.core.service.ServiceId;
import io.semnet.metrics.testing.NodeFixture;
import io.semnet.metrics.testing.PrometheusServer;
import io.semnet.mqtt.MqttTransport;
import io.semnet.resolver.enrol.JoinToken;
import io.semnet.testing.Privileged;
import io.semnet.testing.TestNetwork;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16's scrape, against the deployable shape: mosquitto with TLS, a controller and one agent
 * as separate JVMs; a real Prometheus (free loopback port, temporary data directory, 1 s scrape
 * interval) scrapes the agent's {@code /metrics}. Instances attached with {@code agent attach} send
 * UDP to a ServiceIP: after a warm-up flow, 5 more flows move the ServiceIP's new-flow counter by
 * exactly 5, and datagrams from a service the isolation rules keep out move the
 * {@code not_permitted} drop counter, as read through Prometheus's {@code /api/v1/query}.
 */
@Privileged
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class PrometheusScrapeTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int FLOWS = 5;
  private static final int REFUSED = 12;
  private final ServiceId web = ServiceId.of("web", "tum", "hello", "prod");
  private final ServiceId client = ServiceId.of("cli", "tum", "client", "prod");
  private final ServiceId outsider = ServiceId.of("cli", "evil", "client", "prod");

  @Test
  void prometheusScrapesAnAgent(@TempDir Path tmp) throws Exception {
    long t0 = System.nanoTime();
    try (TestNetwork net = new TestNetwork(); Launcher procs = new Launcher(tmp)) {
      String nodeNs = net.namespace("apsn");
      String underNs = net.namespace("apsu"); // the node's underlay: one veth (no peers to reach)
      net.veth(underNs, net.name("apu"), "10.95.0.2/24", nodeNs, net.name("apn"), "10.95.0.1/24");
      String aNs = net.namespace("apsa");
      String bNs = net.namespace("apsb");
      String cNs = net.namespace("apsc");

      int admin = Launcher.freePort();
      PrometheusServer prom = new PrometheusServer(net, "127.0.0.1:" + admin); // starts while the JVMs do
      ControlPlane cp = ControlPlane.start(tmp, net, procs, "", "");
      InetAddress serviceIp;
      Path yaml;
      try (MqttTransport opNet = cp.operatorTransport(); RemoteOrchestration o = cp.operator(opNet)) {
        JoinToken t = ControlPlane.retry(() -> o.issueJoinToken("c1", Duration.ofMinutes(5), true));
        yaml = cp.agentYaml("w1", nodeNs, "10.95.0.1", admin, t.token(), t.rootKeyHash());
        procs.start("agent-w1", AgentMain.class, "--config", yaml.toString());
        Launcher.waitFor(() -> Launcher.get("http://127.0.0.1:" + admin + "/health").code() == 200, 60,
            () -> "agent healthy: " + procs.read("agent-w1"));
        serviceIp = o.deploy(ServiceDescriptor.builder(web).instances(1).build()).serviceIp("rr", true).address();
        o.deploy(ServiceDescriptor.builder(client).instances(1).build());
        o.deploy(ServiceDescriptor.builder(outsider).instances(1).build());
      }
      long tAgent = System.nanoTime();
      Process[] attaching = {attach(procs, yaml, bNs, web), attach(procs, yaml, aNs, client), attach(procs, yaml, cNs, outsider)};
      attached(procs, attaching[0], bNs);
      InetAddress aIp = InetAddress.getByName(attached(procs, attaching[1], aNs).path("attachment").path("ipv4").asText());
      InetAddress cIp = InetAddress.getByName(attached(procs, attaching[2], cNs).path("attachment").path("ipv4").asText());
      prom.awaitTargetUp(Duration.ofSeconds(30));
      String flows = "semnet_translator_new_flows_total{service_ip=\"" + Addresses.format(serviceIp) + "\",policy=\"rr\"}";
      String drops = "semnet_translator_drops_total{reason=\"not_permitted\"}";
      assertEquals(0, prom.value(drops), "no drop before the traffic");
      assertEquals(1, prom.value("semnet_control_connected"), "the agent's MQTT transport reports too");
      Launcher.Result ctlMetrics = Launcher.get("http://127.0.0.1:" + cp.controllerAdmin + "/metrics");
      assertEquals(200, ctlMetrics.code(), ctlMetrics.output());
      assertTrue(ctlMetrics.output().contains("semnet_control_messages_total{direction=\"received\"}"), ctlMetrics.output());

      try (DatagramSocket server = NodeFixture.listen(bNs)) {
        assertTrue(NodeFixture.sendUntilReceived(aNs, aIp, serviceIp, server), "the first flow reached the web instance");
        double warm = awaitStable(prom, flows);
        for (int i = 0; i < FLOWS; i++) { // the route is cached now: one socket, one flow each
          assertTrue(NodeFixture.sendUntilReceived(aNs, aIp, serviceIp, server), "flow " + i + " reached the web instance");
        }
        NodeFixture.sendBlind(cNs, cIp, serviceIp, REFUSED);
        Duration seen = prom.awaitValue(flows, warm + FLOWS, Duration.ofSeconds(20));
        double refused = awaitStable(prom, drops);
        assertTrue(refused >= 1 && refused <= REFUSED, "the outsider's datagrams were refused and counted: " + refused);
        System.out.printf("PrometheusScrapeTest: agent healthy after %d ms; %d flows (+%.0f warm-up) and %.0f refused packets"
            + " (of %d sent) seen through Prometheus %d ms after the traffic; whole test %.1f s%n", (tAgent - t0) / 1_000_000, FLOWS,
            warm, refused, REFUSED, seen.toMillis(), (System.nanoTime() - t0) / 1e9);
      }
    }
  }

  /** Waits until {@code query} has a value that stays the same over three scrapes; returns it. */
  private static double awaitStable(PrometheusServer prom, String query) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    double last = Double.NaN;
    int same = 0;
    while (System.nanoTime() < deadline) {
      double v = prom.value(query);
      same = !Double.isNaN(v) && v == last ? same + 1 : 0;
      last = v;
      if (same >= 3 && v > 0) {
        return v;
      }
      Thread.sleep(1000);
    }
    throw new AssertionError(query + " did not settle above 0 (last " + last + ")");
  }

  /** Starts {@code agent attach} of instance 0 of {@code service} in namespace {@code netns}. */
  private static Process attach(Launcher procs, Path yaml, String netns, ServiceId service) throws Exception {
    return procs.start("attach-" + netns, AgentMain.class, "attach", "--config", yaml.toString(), "--netns", netns,
        "--service", service.toString(), "--ordinal", "0");
  }

  /** Waits for an {@link #attach} to finish well; returns its JSON answer. */
  private static JsonNode attached(Launcher procs, Process p, String netns) throws Exception {
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "attach " + netns + " finished");
    String out = procs.read("attach-" + netns);
    assertEquals(0, p.exitValue(), out);
    return JSON.readTree(out.substring(out.indexOf('{')));
  }
}
