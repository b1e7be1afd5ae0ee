package io.semnet.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.semnet.agent.internal.ClientIdentity;
import io.semnet.agent.internal.Pem;
import io.semnet.control.RemoteOrchestration;
import io.semnet.control.ServiceDescriptor;
import io.semnet.control.X509CertificateIssuer;
import io.semnet.core.address.Addresses;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.SemanticName;
import io.semnet.core.service.ServiceId;
import io.semnet.mqtt.MqttTransport;
import io.semnet.resolver.NodeRegistration;
import io.semnet.testing.Privileged;
import io.semnet.testing.TestNetwork;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deployable shape end to end: mosquitto with TLS and the ACL from {@code certs init}, one
 * controller and three agents as separate JVMs (each node in its own network namespace, joined by
 * veths to a bridge in an underlay namespace), enrolled with join tokens (the first from
 * {@code token create}). A service deployed through {@link RemoteOrchestration} (signed with the
 * operator's key) is attached with {@code agent attach} on node 1 and reached from an instance on
 * node 2 by name (dig and glibc's getent via the node's DNS), ServiceIP and InstanceIP (curl). A bad
 * and a reused token are refused (the agent exits 1 with the root's reason); an enrolment request a
 * spy on the broker captured is replayed and refused; node 2 restarts (SIGTERM, its namespace left
 * empty, start again without a token) with the same identity and subnets and serves again; /health
 * says 503 when the broker is gone; SIGTERM leaves no device, route or nftables table behind.
 */
@Privileged
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class MultiProcessDeploymentTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int HTTP = 8080;
  private final ServiceId web = ServiceId.of("web", "tum", "hello", "prod");
  private final ServiceId shop = ServiceId.of("shop", "tum", "client", "prod");

  @Test
  void controllerAndThreeAgentsOverMqttWithTls(@TempDir Path tmp) throws Exception {
    long t0 = System.nanoTime();
    try {
      run(tmp, t0);
    } finally {
      System.out.printf("MultiProcessDeploymentTest took %d ms with the clean-up%n", (System.nanoTime() - t0) / 1_000_000);
    }
  }

  private void run(Path tmp, long t0) throws Exception {
    try (TestNetwork net = new TestNetwork(); Launcher procs = new Launcher(tmp)) {
      // underlay: a bridge in its own namespace, one veth per node namespace
      String under = net.namespace("mpdu");
      net.exec(under, "ip", "link", "add", "br0", "type", "bridge");
      net.exec(under, "ip", "link", "set", "br0", "up");
      String[] ns = new String[4];
      for (int i = 1; i <= 3; i++) {
        ns[i] = net.namespace("mpd" + i);
        net.veth(under, net.name("mu" + i), null, ns[i], net.name("mn" + i), "10.97.0." + i + "/24");
        net.exec(under, "ip", "link", "set", net.name("mu" + i), "master", "br0");
      }
      String server = net.namespace("mpd1a");
      String client = net.namespace("mpd2a");
      String client2 = net.namespace("mpd2b");

      // broker (certs init, plus a spy identity standing for a broker in the middle) and controller
      ControlPlane cp = ControlPlane.start(tmp, net, procs,
          "\n# the test's spy: sees and writes the enrolment service's topics\nuser spy\ntopic readwrite semnet/enrol/#\n",
          "enrolmentRetryWindow: 3s\n");
      Path pki = cp.pki;
      int mqttPort = cp.mqttPort;
      Path ctlYaml = cp.controllerYaml;

      Map<String, byte[]> captured = new ConcurrentHashMap<>();
      MqttClient spy = spy(pki, mqttPort, captured);
      net.onClose(() -> {
        try {
          if (spy.isConnected()) {
            spy.disconnectForcibly(100, 100, false);
          }
          spy.close(true);
        } catch (Exception e) {
          // best effort: the broker may be gone already
        }
      });
      try (MqttTransport opNet = cp.operatorTransport(); RemoteOrchestration o = cp.operator(opNet)) {
        // node 1's token from the command line, the others through the API
        Launcher.Result created = procs.run("token-create", ControllerMain.class, "token", "create", "--config", ctlYaml.toString());
        assertEquals(0, created.code(), created.output());
        String token1 = line(created.output(), "token: ");
        String hash = line(created.output(), "root-key-hash: ");
        Process[] agents = new Process[4];
        Path[] yaml = new Path[4];
        int[] admin = new int[4];
        for (int i = 1; i <= 3; i++) {
          String token = i == 1 ? token1 : ControlPlane.retry(() -> o.issueJoinToken("c1", Duration.ofMinutes(10), true)).token();
          admin[i] = Launcher.freePort();
          yaml[i] = cp.agentYaml("w" + i, ns[i], "10.97.0." + i, admin[i], token, hash);
          agents[i] = procs.start("agent-w" + i, AgentMain.class, "--config", yaml[i].toString());
        }
        for (int i = 1; i <= 3; i++) { // started together: they take turns on the shared enrolment identity
          int n = i;
          Launcher.waitFor(() -> health(admin[n]).code() == 200, 90, () -> "agent w" + n + " healthy: " + procs.read("agent-w" + n));
        }
        assertEquals(3, o.nodes().size());
        JsonNode h1 = JSON.readTree(health(admin[1]).output());
        assertTrue(h1.get("enrolled").asBoolean() && h1.get("online").asBoolean() && h1.get("forwarding").asBoolean(), h1.toString());
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
            Files.getPosixFilePermissions(tmp.resolve("w1/identity.json"))));
        System.out.printf("three agents enrolled and healthy after %d ms%n", (System.nanoTime() - t0) / 1_000_000);

        // refused enrolments: a wrong secret, and node 1's (used) token for another node
        String fresh = ControlPlane.retry(() -> o.issueJoinToken("c1", Duration.ofMinutes(10), true)).token();
        String bad = fresh.substring(0, fresh.indexOf('.') + 1) + "00".repeat(16);
        String badNs = net.namespace("mpdx");
        Process wrongP = procs.start("agent-bad", AgentMain.class, "--config",
            cp.agentYaml("w8", badNs, "10.97.0.8", Launcher.freePort(), bad, hash).toString());
        Process reusedP = procs.start("agent-reused", AgentMain.class, "--config",
            cp.agentYaml("w9", badNs, "10.97.0.9", Launcher.freePort(), token1, hash).toString());
        Launcher.Result wrong = procs.finish("agent-bad", wrongP);
        Launcher.Result reused = procs.finish("agent-reused", reusedP);
        assertEquals(1, wrong.code(), wrong.output());
        assertTrue(wrong.output().contains("does not match"), wrong.output());
        assertEquals(1, reused.code(), reused.output());
        assertTrue(reused.output().contains("already used"), reused.output());
        assertEquals(3, o.nodes().size(), "refused enrolments change nothing");

        // a request seen on the broker, replayed after the retry window: refused, nothing changes
        assertTrue(!captured.isEmpty(), "the spy saw the enrolment requests");
        Map.Entry<String, byte[]> seen = captured.entrySet().iterator().next();
        String before = procs.read("controller");
        spy.publish(seen.getKey(), new MqttMessage(seen.getValue(), 1, false, null));
        Launcher.waitFor(() -> procs.read("controller").length() > before.length()
            && procs.read("controller").substring(before.length()).contains("already used"), 20, () -> "replay refused");
        assertEquals(3, o.nodes().size());

        // deploy through the remote API, attach with the agent's command, reach by name, ServiceIP, InstanceIP
        ServiceRecord webRecord = o.deploy(ServiceDescriptor.builder(web).instances(1).build());
        o.deploy(ServiceDescriptor.builder(shop).instances(2).build());
        JsonNode w0 = attach(procs, yaml[1], server, web, 0);
        JsonNode c0 = attachDirect(tmp.resolve("w2/control.sock"), client, shop, 0);
        Path site = Files.createDirectories(tmp.resolve("site"));
        Files.writeString(site.resolve("index.html"), "hello from w1\n");
        net.start(server, "/usr/bin/python3", "-m", "http.server", Integer.toString(HTTP), "--bind", "0.0.0.0", "--directory", site.toString());
        Launcher.waitFor(() -> net.tryExec(server, 5, "curl", "-sf", "http://127.0.0.1:" + HTTP + "/").exitCode == 0, 20, () -> "web server");
        String gw2 = gateway(net, client);
        net.resolvConf(client, gw2);
        String sip = Addresses.format(webRecord.serviceIps().get(0).address());
        String policy = webRecord.serviceIps().get(0).policy();
        String byName = SemanticName.ofPolicy(web, policy).toString();
        String iip = w0.path("attachment").path("instanceIpv4").asText();
        assertNotEquals("", iip, w0.toString());
        TestNetwork.Result dig = net.tryExec(client, 20, "dig", "+short", "+tries=3", "+timeout=2", "@" + gw2, byName, "A");
        assertTrue(dig.output.contains(sip), "dig " + byName + ": " + dig);
        TestNetwork.Result getent = net.tryExec(client, 20, "getent", "ahostsv4", SemanticName.ofInstance(web, 0).toString());
        assertTrue(getent.output.contains(iip), "getent: " + getent);
        for (String host : List.of(byName, sip, iip)) {
          assertEquals("hello from w1", curl(net, client, host), "via " + host);
        }
        System.out.printf("reached %s by name, ServiceIP %s, InstanceIP %s after %d ms%n", web, sip, iip, (System.nanoTime() - t0) / 1_000_000);

        // node 2 restarts: SIGTERM leaves its namespace empty; started again without a token it keeps identity and subnets
        NodeRegistration w2 = o.node("w2");
        JsonNode h2 = JSON.readTree(health(admin[2]).output());
        Launcher.terminate(agents[2]);
        assertClean(net, ns[2], client);
        Files.writeString(yaml[2], Files.readString(yaml[2]).replaceAll("(?m)^join:.*$", ""));
        agents[2] = procs.start("agent-w2-again", AgentMain.class, "--config", yaml[2].toString());
        Launcher.waitFor(() -> health(admin[2]).code() == 200, 60, () -> "w2 healthy again: " + procs.read("agent-w2-again"));
        JsonNode h2b = JSON.readTree(health(admin[2]).output());
        assertEquals(h2.get("subnetV4"), h2b.get("subnetV4"));
        assertEquals(h2.get("registrationSerial"), h2b.get("registrationSerial"), "the stored registration was loaded");
        assertTrue(procs.read("agent-w2-again").contains("identity of w2 loaded"));
        assertEquals(w2, o.node("w2"), "the root's registration is unchanged");
        attachDirect(tmp.resolve("w2/control.sock"), client2, shop, 1);
        net.resolvConf(client2, gateway(net, client2));
        assertEquals("hello from w1", curl(net, client2, byName), "after the restart");

        // health says 503 without the broker; SIGTERM leaves nothing behind
        spy.disconnect();
        cp.stopBroker();
        Launcher.waitFor(() -> health(admin[3]).code() == 503, 30, () -> "w3 unhealthy without the broker: " + health(admin[3]));
        assertTrue(JSON.readTree(health(admin[3]).output()).get("enrolled").asBoolean());
        for (int i = 1; i <= 3; i++) {
          Launcher.terminate(agents[i]);
          assertClean(net, ns[i], i == 1 ? server : client2);
        }
        Launcher.terminate(cp.controller);
      } finally {
        System.out.printf("MultiProcessDeploymentTest took %d ms (before cleaning up)%n", (System.nanoTime() - t0) / 1_000_000);
      }
    }
  }

  static JsonNode attach(Launcher procs, Path yaml, String netns, ServiceId service, int ordinal) throws Exception {
    Launcher.Result r = procs.run("attach-" + netns, AgentMain.class, "attach", "--config", yaml.toString(), "--netns", netns,
        "--service", service.toString(), "--ordinal", Integer.toString(ordinal));
    assertEquals(0, r.code(), r.output());
    return JSON.readTree(r.output().substring(r.output().indexOf('{')));
  }

  /** The same request as {@code agent attach}, straight to the agent's control socket (one JVM start less). */
  private static JsonNode attachDirect(Path socket, String netns, ServiceId service, int ordinal) throws Exception {
    JsonNode r = io.semnet.agent.internal.LocalControl.call(socket, io.semnet.agent.internal.LocalControl.request("attach")
        .put("netns", netns).put("service", service.toString()).put("ordinal", ordinal));
    assertTrue(r.path("ok").asBoolean(), r.toString());
    return r;
  }

  private static String gateway(TestNetwork net, String ns) {
    String route = net.exec(ns, "ip", "-4", "route", "show", "default");
    return route.split("\\s+")[2];
  }

  private static String curl(TestNetwork net, String ns, String host) {
    TestNetwork.Result r = net.tryExec(ns, 30, "curl", "-sS", "-4", "--max-time", "10", "--retry", "2", "http://" + host + ":" + HTTP + "/");
    assertEquals(0, r.exitCode, "curl " + host + ": " + r.output);
    return r.output.trim();
  }

  /** The node's namespace after SIGTERM: only loopback and the underlay veth, no SemNet route, no nftables table. */
  private static void assertClean(TestNetwork net, String ns, String instanceNs) {
    String links = net.exec(ns, "ip", "-o", "link");
    assertTrue(!links.contains("snbr") && !links.contains("sn0") && !links.contains("veth"), links);
    String routes = net.exec(ns, "ip", "route") + net.exec(ns, "ip", "-6", "route");
    assertTrue(routes.lines().allMatch(l -> l.contains("10.97.0.0/24") || l.startsWith("fe80") || l.isBlank()), routes);
    assertEquals("", net.exec(ns, "nft", "list", "tables").trim());
    String inst = net.exec(instanceNs, "ip", "-o", "link");
    assertTrue(inst.lines().allMatch(l -> l.contains(": lo:")), "the instance's veth is gone: " + inst);
  }

  static Launcher.Result health(int port) {
    return Launcher.get("http://127.0.0.1:" + port + "/health");
  }

  static String line(String output, String prefix) {
    return output.lines().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow(() -> new AssertionError(prefix + " in " + output))
        .substring(prefix.length()).trim();
  }

  /** An MQTT client with a certificate for CN {@code spy} (signed with the broker's CA), recording enrolment requests. */
  private static MqttClient spy(Path pki, int port, Map<String, byte[]> captured) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(256);
    KeyPair pair = g.generateKeyPair();
    X509CertificateIssuer ca = new X509CertificateIssuer(Pem.privateKey(pki.resolve("ca.key")),
        Pem.certificates(pki.resolve("ca.crt")).get(0));
    byte[] cert = ca.issue("spy", pair.getPublic().getEncoded(), Instant.now().minusSeconds(60), Instant.now().plusSeconds(3600));
    MqttConnectionOptions opts = new MqttConnectionOptions();
    opts.setSocketFactory(Pem.tls(pki.resolve("ca.crt"), new ClientIdentity(pair.getPrivate(), List.of(Pem.certificate(cert))))
        .getSocketFactory());
    MqttClient c = new MqttClient("ssl://127.0.0.1:" + port, "spy", new MemoryPersistence());
    c.setCallback(new org.eclipse.paho.mqttv5.client.MqttCallback() {
      @Override
      public void messageArrived(String topic, MqttMessage m) {
        // Paho 1.2.5's subscribe(topic, qos, listener) recurses forever: a callback instead
        if (new String(m.getPayload(), java.nio.charset.StandardCharsets.UTF_8).contains("\"enrol\"")) {
          captured.putIfAbsent(topic, m.getPayload());
        }
      }

      @Override
      public void disconnected(org.eclipse.paho.mqttv5.client.MqttDisconnectResponse r) {}

      @Override
      public void mqttErrorOccurred(org.eclipse.paho.mqttv5.common.MqttException e) {}

      @Override
      public void deliveryComplete(org.eclipse.paho.mqttv5.client.IMqttToken t) {}

      @Override
      public void connectComplete(boolean reconnect, String uri) {}

      @Override
      public void authPacketArrived(int reason, org.eclipse.paho.mqttv5.common.packet.MqttProperties p) {}
    });
    c.connect(opts);
    c.subscribe("semnet/enrol/c2m/+", 1);
    return c;
  }
}
