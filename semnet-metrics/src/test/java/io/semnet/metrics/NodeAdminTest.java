package io.semnet.metrics;

import static io.semnet.metrics.testing.NodeFixture.sendUntilReceived;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.semnet.core.address.Addresses;
import io.semnet.metrics.testing.NodeFixture;
import io.semnet.metrics.cli.SemnetInspect;
import io.semnet.node.Attachment;
import io.semnet.node.WorkerNode;
import io.semnet.node.admin.AdminServer;
import io.semnet.testing.Privileged;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two worker nodes joined by a veth underlay; a client on w1 reaches the web service on w2 through
 * the tunnel. w1's admin server answers /flows, /links, /routes and /metrics with what happened,
 * bounded by {@code limit}, and {@code semnet-inspect} prints them as tables, with a bearer token
 * when the server wants one.
 */
@Privileged
class NodeAdminTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();
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
  void flowsLinksRoutesAndMetricsShowTheTrafficAndTheCliPrintsThem() throws Exception {
    String ns1 = fx.net.namespace("nan1");
    String ns2 = fx.net.namespace("nan2");
    String aNs = fx.net.namespace("naa");
    String bNs = fx.net.namespace("nab");
    fx.net.veth(ns1, fx.net.name("u1"), "10.99.0.1/24", ns2, fx.net.name("u2"), "10.99.0.2/24");
    Path tokenFile = Files.createTempFile(fx.net.tag(), ".token");
    fx.net.onClose(() -> tokenFile.toFile().delete());
    Files.writeString(tokenFile, "t0ken\n");
    try (WorkerNode w1 = fx.node("w1", ns1, "10.99.0.1").start();
        WorkerNode w2 = fx.node("w2", ns2, "10.99.0.2").start();
        NodeAdmin admin = NodeAdmin.of(w1);
        AdminServer server = admin.install(AdminServer.builder()).build().start();
        AdminServer guarded = admin.install(AdminServer.builder().bearerToken("t0ken")).build().start()) {
      fx.place(w2, bNs, fx.web);
      Attachment a = fx.place(w1, aNs, fx.client);
      InetAddress serviceIp = fx.serviceIp(fx.web);
      try (DatagramSocket web = NodeFixture.listen(bNs)) {
        assertTrue(sendUntilReceived(aNs, a.ipv4(), serviceIp, web), "the client on w1 reached web on w2");
      }
      String url = "http://127.0.0.1:" + server.address().getPort();

      JsonNode flows = get(url + "/flows");
      assertTrue(flows.path("total").asInt() >= 1, flows.toString());
      JsonNode f = find(flows.path("flows"), "destination", Addresses.format(serviceIp));
      assertEquals("udp", f.path("protocol").asText());
      assertEquals("client", f.path("direction").asText());
      assertEquals(Addresses.format(a.ipv4()), f.path("source").asText());
      assertEquals(NodeFixture.PORT, f.path("destinationPort").asInt());
      assertEquals(Addresses.format(a.record().instanceIpv4().address()), f.path("translatedSource").asText());
      assertEquals("w2", f.path("peer").asText());
      assertTrue(f.path("bytesOut").asLong() > 0, f.toString());
      JsonNode none = get(url + "/flows?limit=0");
      assertEquals(0, none.path("shown").asInt());
      assertTrue(none.path("truncated").asBoolean());
      assertEquals(400, status(url + "/flows?limit=lots"));
      assertEquals(400, status(url + "/flows?limit=100001"));

      JsonNode link = find(get(url + "/links").path("links"), "peer", "w2");
      assertEquals("10.99.0.2:51820", link.path("endpoint").asText());
      assertTrue(link.path("established").asBoolean());
      assertTrue(link.path("txPackets").asLong() > 0 && link.path("txBytes").asLong() > 0, link.toString());
      assertTrue(link.path("keyAgeSeconds").isNumber(), link.toString());

      JsonNode route = find(get(url + "/routes").path("routes"), "service", fx.web.toString());
      assertEquals("w2", route.path("instances").get(0).path("node").asText());
      assertTrue(route.path("ejected").isArray());

      String metrics = http.send(HttpRequest.newBuilder(URI.create(url + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      assertTrue(metrics.contains("semnet_peer_bytes_total{direction=\"sent\",peer=\"w2\"}"), metrics);
      assertTrue(metrics.contains("semnet_resolver_online 1.0"), metrics);

      String table = inspect(0, "--url", url, "flows");
      assertTrue(table.startsWith("PROTO"), table);
      assertTrue(table.contains("udp") && table.contains("w2") && table.contains(Addresses.format(serviceIp)), table);
      assertTrue(inspect(0, "--url", url, "links").contains("10.99.0.2:51820"));
      assertTrue(inspect(0, "--url", url, "routes").contains(fx.web.toString()));
      String gurl = "http://127.0.0.1:" + guarded.address().getPort();
      assertTrue(inspect(1, "--url", gurl, "links").contains("401"), "no token, no answer");
      assertTrue(inspect(0, "--url", gurl, "--token-file", tokenFile.toString(), "links").contains("w2"));
      System.out.println("NodeAdminTest: semnet-inspect flows\n" + table);
    }
  }

  private JsonNode get(String url) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return JSON.readTree(r.body());
  }

  private int status(String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  private static JsonNode find(JsonNode array, String field, String value) {
    for (JsonNode n : array) {
      if (value.equals(n.path(field).asText())) {
        return n;
      }
    }
    throw new AssertionError("no element with " + field + "=" + value + " in " + array);
  }

  private static String inspect(int expectedExit, String... args) {
    StringWriter out = new StringWriter();
    int rc = SemnetInspect.run(new PrintWriter(out, true), args);
    assertEquals(expectedExit, rc, out.toString());
    return out.toString();
  }
}
