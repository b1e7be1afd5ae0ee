package io.semnet.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.semnet.control.RemoteOrchestration;
import io.semnet.mqtt.MqttTransport;
import io.semnet.resolver.enrol.JoinToken;
import io.semnet.resolver.enrol.NodeIdentityFile;
import io.semnet.testing.Privileged;
import io.semnet.testing.TestNetwork;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Automatic renewal with short certificates (24 s at the controller): the agent renews its
 * registration and MQTT client certificate at two thirds of their validity and stores the new one;
 * after its first certificate expired the broker restarts, and the agent reconnects presenting the
 * renewed certificate (mosquitto would refuse the expired one) and is healthy again.
 */
@Privileged
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class AgentRenewalTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void renewsAndReconnectsWithTheRenewedCertificate(@TempDir Path tmp) throws Exception {
    long t0 = System.nanoTime();
    try (TestNetwork net = new TestNetwork(); Launcher procs = new Launcher(tmp)) {
      String ns = net.namespace("mpr1");
      ControlPlane cp = ControlPlane.start(tmp, net, procs, "", "certificateValidity: 24s\n");
      try (MqttTransport opNet = cp.operatorTransport(); RemoteOrchestration o = cp.operator(opNet)) {
        JoinToken t = ControlPlane.retry(() -> o.issueJoinToken("c1", Duration.ofMinutes(5), true));
        int admin = Launcher.freePort();
        Process agent = procs.start("agent-r1", AgentMain.class, "--config",
            cp.agentYaml("r1", ns, "10.96.0.1", admin, t.token(), t.rootKeyHash()).toString());
        Launcher.waitFor(() -> health(admin).code() == 200, 60, () -> "agent healthy: " + procs.read("agent-r1"));
        JsonNode first = JSON.readTree(health(admin).output());
        Instant firstExpiry = Instant.parse(first.get("registrationNotAfter").asText());

        Launcher.waitFor(() -> !serial(admin).equals(first.get("registrationSerial").asText()), 40,
            () -> "a renewal: " + health(admin).output() + procs.read("agent-r1"));
        JsonNode renewed = JSON.readTree(health(admin).output());
        assertTrue(Instant.parse(renewed.get("registrationNotAfter").asText()).isAfter(firstExpiry), renewed.toString());
        assertEquals(first.get("subnetV4"), renewed.get("subnetV4"));
        long stored = NodeIdentityFile.open(tmp.resolve("r1/identity.json")).enrolment().signedRegistration().serial();
        assertNotEquals(first.get("registrationSerial").asLong(), stored, "the renewal is stored");

        // the first MQTT certificate has expired: a reconnect must present the renewed one
        while (Instant.now().isBefore(firstExpiry.plusSeconds(1))) {
          Thread.sleep(200);
        }
        cp.stopBroker();
        Launcher.waitFor(() -> health(admin).code() == 503, 30, () -> "offline without the broker: " + health(admin).output());
        cp.startBroker();
        Launcher.waitFor(() -> health(admin).code() == 200, 60,
            () -> "online again with the renewed certificate: " + health(admin).output() + procs.read("agent-r1"));
        Launcher.terminate(agent);
        assertEquals("", net.exec(ns, "nft", "list", "tables").trim());
        assertTrue(!net.exec(ns, "ip", "-o", "link").contains("snbr"));
      }
    } finally {
      System.out.printf("AgentRenewalTest took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    }
  }

  private static Launcher.Result health(int port) {
    return Launcher.get("http://127.0.0.1:" + port + "/health");
  }

  private static String serial(int port) {
    try {
      return JSON.readTree(health(port).output()).path("registrationSerial").asText();
    } catch (Exception e) {
      return "";
    }
  }
}
