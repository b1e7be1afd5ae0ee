package io.semnet.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.control.RemoteOrchestration;
import io.semnet.control.ServiceDescriptor;
import io.semnet.control.store.PostgresCluster;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.mqtt.MqttTransport;
import io.semnet.testing.Privileged;
import io.semnet.testing.TestNetwork;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The controller with {@code store.type: postgres} (a throw-away PostgreSQL cluster): a service
 * deployed through the orchestration API is still there, with the same ServiceIPs and version,
 * after the controller was stopped with SIGTERM and started again.
 */
@Privileged
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class ControllerPostgresTest {
  @Test
  void deploymentsSurviveARestartOnPostgres(@TempDir Path tmp) throws Exception {
    Assumptions.assumeTrue(PostgresCluster.available(), "PostgreSQL 15 is not installed");
    long t0 = System.nanoTime();
    try (PostgresCluster pg = PostgresCluster.start(); TestNetwork net = new TestNetwork(); Launcher procs = new Launcher(tmp)) {
      pg.createDatabase("semnet");
      ControlPlane cp = ControlPlane.start(tmp, net, procs, "",
          "store: {type: postgres, jdbcUrl: \"" + pg.jdbcUrl("semnet") + "\", user: postgres}\n");
      ServiceId sid = ServiceId.of("shop", "tum", "cart", "prod");
      ServiceRecord deployed;
      try (MqttTransport opNet = cp.operatorTransport(); RemoteOrchestration o = cp.operator(opNet)) {
        deployed = ControlPlane.retry(() -> o.deploy(ServiceDescriptor.builder(sid).instances(2).build()));
      }
      assertEquals(143, Launcher.terminate(cp.controller), "the controller ends on SIGTERM (128 + 15) after its shutdown hook");
      cp.startController(procs, "controller-again");
      assertTrue(procs.read("controller-again").contains("store postgres"), procs.read("controller-again"));
      try (MqttTransport opNet = cp.operatorTransport(); RemoteOrchestration o = cp.operator(opNet)) {
        ServiceRecord after = ControlPlane.retry(() -> o.record(sid));
        assertNotNull(after, "the deployment is in the store");
        assertEquals(deployed.serviceIps(), after.serviceIps());
        assertEquals(deployed.version(), after.version());
      }
      Launcher.terminate(cp.controller);
    } finally {
      System.out.printf("ControllerPostgresTest took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    }
  }
}
