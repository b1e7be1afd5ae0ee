package io.semnet.samples.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.control.OrchestrationService;
import io.semnet.control.OrchestratorKey;
import io.semnet.control.RemoteOrchestration;
import io.semnet.core.record.GeoPoint;
import io.semnet.samples.cluster.LocalCluster;
import io.semnet.samples.cluster.Shell;
import io.semnet.node.WorkerNode;
import io.semnet.testing.Privileged;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

@Privileged
class NodeAgentTest {
  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> call(NodeAgent agent, String method, String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.address().getPort() + path));
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void plugsInstancesInByNamespaceAndByPidAndUnplugsThem() throws Exception {
    try (LocalCluster cluster = new LocalCluster()) {
      WorkerNode w = cluster.addWorker("w1", GeoPoint.of(48.1, 11.6));
      String ns = cluster.prefix() + "-app";
      Shell.check(null, "ip", "netns", "add", ns);
      Process container = new ProcessBuilder("unshare", "-n", "sleep", "120").start();
      // The agent talks to the root as a remote orchestrator would: signed calls over the control
      // transport (MQTT across machines; the in-process transport here), not to a Java object.
      OrchestratorKey key = OrchestratorKey.generate();
      try (OrchestrationService service = OrchestrationService.builder().orchestration(cluster.orchestration())
              .transport(cluster.controlPlane().transport()).trust(key.publicKey()).build();
          RemoteOrchestration remote = RemoteOrchestration.builder().transport(cluster.controlPlane().transport())
              .clientId("node-agent").key(key).build();
          NodeAgent agent = new NodeAgent(remote, w, new InetSocketAddress("127.0.0.1", 0))) {
        assertTrue(call(agent, "GET", "/node", null).body().contains(w.registration().subnetV4().toString()));
        HttpResponse<String> dep = call(agent, "POST", "/services", "{\"service\":\"web.tum.hello.prod\",\"instances\":2}");
        assertEquals(200, dep.statusCode(), dep.body());
        assertTrue(dep.body().contains("\"rr\""), dep.body());

        HttpResponse<String> byNs = call(agent, "POST", "/instances", "{\"service\":\"web.tum.hello.prod\",\"ordinal\":0,\"netns\":\"" + ns + "\"}");
        assertEquals(200, byNs.statusCode(), byNs.body());
        assertTrue(Shell.check(ns, "ip", "-4", "addr", "show", "eth0").contains("172.16."), "the namespace got a node address");
        HttpResponse<String> byPid = call(agent, "POST", "/instances",
            "{\"service\":\"web.tum.hello.prod\",\"ordinal\":1,\"pid\":" + container.pid() + "}");
        assertEquals(200, byPid.statusCode(), byPid.body());
        assertTrue(Shell.check(null, "nsenter", "-t", Long.toString(container.pid()), "-n", "ip", "-4", "addr").contains("172.16."));
        assertEquals(2, w.localInstances().all().size());

        assertEquals(400, call(agent, "POST", "/instances", "{\"service\":\"web.tum.hello.prod\",\"ordinal\":0,\"netns\":\"" + ns + "\"}").statusCode(),
            "plugging the same instance twice is refused");
        assertEquals(404, call(agent, "POST", "/instances", "{\"service\":\"web.tum.hello.prod\",\"ordinal\":5,\"netns\":\"nope\"}").statusCode());
        assertEquals(400, call(agent, "POST", "/instances", "{\"service\":\"not a service\",\"ordinal\":1,\"netns\":\"" + ns + "\"}").statusCode());
        assertEquals(400, call(agent, "POST", "/instances", "{broken").statusCode());
        assertEquals(2, w.localInstances().all().size(), "failed requests change nothing");

        assertEquals(200, call(agent, "DELETE", "/instances/web.tum.hello.prod/0", null).statusCode());
        assertEquals(404, call(agent, "DELETE", "/instances/web.tum.hello.prod/0", null).statusCode());
        assertEquals(1, w.localInstances().all().size());
        assertTrue(cluster.orchestration().record(io.semnet.core.service.ServiceId.parse("web.tum.hello.prod")).instance(0).locator() == null);
      } finally {
        container.destroyForcibly();
        Shell.run(null, 10, "ip", "netns", "del", ns);
        Shell.run(null, 10, "ip", "netns", "del", "semnet-pid-" + container.pid());
      }
    }
  }
}
