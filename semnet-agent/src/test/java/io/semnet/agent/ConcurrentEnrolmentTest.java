package io.semnet.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.semnet.control.RemoteOrchestration;
import io.semnet.mqtt.MqttTransport;
import io.semnet.resolver.enrol.JoinToken;
import io.semnet.testing.Privileged;
import io.semnet.testing.TestNetwork;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three agents started at the same moment all enrol, although they share the enrolment identity
 * (one MQTT client id: the broker lets only one of them be connected at a time).
 */
@Privileged
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class ConcurrentEnrolmentTest {
  @Test
  void threeAgentsStartedTogetherAllEnrol(@TempDir Path tmp) throws Exception {
    long t0 = System.nanoTime();
    try (TestNetwork net = new TestNetwork(); Launcher procs = new Launcher(tmp)) {
      ControlPlane cp = ControlPlane.start(tmp, net, procs, "", "");
      try (MqttTransport opNet = cp.operatorTransport(); RemoteOrchestration o = cp.operator(opNet)) {
        int[] admin = new int[3];
        Process[] agents = new Process[3];
        Path[] yaml = new Path[3];
        for (int i = 0; i < 3; i++) {
          JoinToken t = ControlPlane.retry(() -> o.issueJoinToken("c1", Duration.ofMinutes(5), true));
          admin[i] = Launcher.freePort();
          yaml[i] = cp.agentYaml("k" + i, net.namespace("mpk" + i), "10.95.0." + (i + 1), admin[i], t.token(), t.rootKeyHash());
        }
        for (int i = 0; i < 3; i++) {
          agents[i] = procs.start("agent-k" + i, AgentMain.class, "--config", yaml[i].toString());
        }
        for (int i = 0; i < 3; i++) {
          int n = i;
          Launcher.waitFor(() -> Launcher.get("http://127.0.0.1:" + admin[n] + "/health").code() == 200, 100,
              () -> "agent k" + n + " healthy: " + procs.read("agent-k" + n));
        }
        System.out.printf("three agents started together enrolled after %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        assertEquals(3, o.nodes().size());
        for (Process p : agents) {
          Launcher.terminate(p);
        }
      }
    }
  }
}
