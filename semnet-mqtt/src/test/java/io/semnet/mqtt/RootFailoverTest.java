package io.semnet.mqtt;

import static io.semnet.control.ControlPlaneBehaviourTest.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.semnet.control.ProcessLines;
import io.semnet.control.RootKeyFile;
import io.semnet.control.ServiceManager;
import io.semnet.control.TestPolicies;
import io.semnet.control.store.PostgresCluster;
import io.semnet.core.route.Resolution;
import io.semnet.core.service.SemanticName;
import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RootAuthority;
import io.semnet.resolver.WorkerResolver;
import io.semnet.testing.Privileged;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15 item 4: two root processes ({@link RootProcess}, separate JVMs) on one PostgreSQL root
 * store over a real mosquitto, a cluster manager and a worker in this JVM. The leader is SIGKILLed
 * while it deploys; the standby takes over (the takeover time is printed), versions never go back,
 * nothing is allocated twice, the worker keeps resolving from its cache while there is no root, and
 * the cluster and worker reconnect by themselves: a service the new leader deploys resolves.
 */
@Privileged
class RootFailoverTest {
  @TempDir Path dir;

  @Test
  void standbyTakesOverAfterKillNine() throws Exception {
    Assumptions.assumeTrue(PostgresCluster.available(), "PostgreSQL 15 is not installed");
    Assumptions.assumeTrue(Files.isExecutable(MosquittoBroker.BINARY), "mosquitto is not installed");
    Path keyFile = dir.resolve("root.key");
    RootAuthority key = RootKeyFile.generate(keyFile);
    List<Process> procs = new ArrayList<>();
    try (PostgresCluster pg = PostgresCluster.start(); MosquittoBroker broker = MosquittoBroker.start()) {
      pg.createDatabase("semnet");
      String[] common = {broker.tcpUri(), pg.jdbcUrl("semnet"), keyFile.toString()};
      Process a = launch(common, "a");
      procs.add(a);
      ProcessLines la = ProcessLines.of(a);
      assertNotNull(la.awaitMatch(l -> l.startsWith("LEADER 1 "), 60_000), "a leads: " + la.all());
      assertNotNull(la.awaitMatch(l -> l.equals("SETUP;"), 30_000), "a set up: " + la.all());
      Process b = launch(common, "b");
      procs.add(b);
      ProcessLines lb = ProcessLines.of(b);
      assertNotNull(lb.awaitMatch(l -> l.equals("STANDBY;"), 60_000), "b waits: " + lb.all());

      MqttTransport ct = MqttTransport.builder().brokerUri(broker.tcpUri()).clientId("c1")
          .reconnectDelay(Duration.ofMillis(50), Duration.ofMillis(500)).build();
      MqttTransport wt = MqttTransport.builder().brokerUri(broker.tcpUri()).clientId("w1")
          .reconnectDelay(Duration.ofMillis(50), Duration.ofMillis(500)).build();
      try (ServiceManager c1 = ServiceManager.cluster().id("c1").upstream("root").transport(ct).rootTrust(key.trust())
               .policyRegistry(TestPolicies.registry()).requestTimeout(Duration.ofSeconds(1))
               .maintenanceInterval(Duration.ofMillis(500)).build();
           WorkerResolver w = WorkerResolver.builder().nodeId("w1").manager("c1").transport(wt).rootTrust(key.trust())
               .requestTimeout(Duration.ofSeconds(2)).maintenanceInterval(Duration.ofMillis(500))
               .renewInterval(Duration.ofSeconds(1)).negativeTtl(Duration.ofMillis(200)).build().start()) {
        await(c1::isUpstreamOnline, "c1 reached the root");
        SemanticName api = SemanticName.ofPolicy(ServiceId.of("app", "a", "api", "prod"), "first");
        awaitFound(w, api, 20);
        long pubs = 0;
        while ((pubs = la.all().stream().filter(l -> l.startsWith("PUB ")).count()) < 30) {
          Thread.sleep(20);
        }

        long killed = System.currentTimeMillis();
        a.destroyForcibly(); // SIGKILL, mid-deploy
        assertTrue(a.waitFor(10, TimeUnit.SECONDS));
        Resolution cached = resolve(w, api);
        assertTrue(cached.isFound(), "the worker resolves from its cache while no root runs: " + cached);

        String leader = lb.awaitMatch(l -> l.startsWith("LEADER "), 30_000);
        assertNotNull(leader, "b took over: " + lb.all());
        String[] f = leader.substring(0, leader.length() - 1).split(" ");
        assertEquals("2", f[1], "the new leader's epoch");
        long takeover = Long.parseLong(f[2]) - killed;
        String after = lb.awaitMatch(l -> l.startsWith("AFTER "), 30_000);
        assertNotNull(after, "b deploys: " + lb.all());
        ServiceId afterId = ServiceId.parse(after.split(" ")[1]);
        long resolvedAt = awaitFound(w, SemanticName.ofPolicy(afterId, "first"), 30);
        assertTrue(resolve(w, api).isFound(), "old routes still resolve");
        while (lb.all().stream().filter(l -> l.startsWith("PUB ")).count() < 20) {
          Thread.sleep(20);
        }
        b.destroyForcibly();
        b.waitFor(10, TimeUnit.SECONDS);
        System.out.printf("RootFailoverTest: leader SIGKILLed after %d publications; standby led %d ms after the kill;"
            + " a service the new leader deployed resolved at the worker %d ms after the kill%n", pubs, takeover, resolvedAt - killed);
        assertTrue(takeover < 5_000, "the standby takes over within 5 s: " + takeover + " ms");
      }
      ct.close();
      wt.close();

      // Versions never go back; nothing is allocated twice.
      Set<String> granted = new HashSet<>();
      long maxA = check(la.all(), granted, 0);
      long maxB = check(lb.all(), granted, maxA); // every version b published is above a's last
      System.out.printf("RootFailoverTest: a published up to version %d, b from above it up to %d; %d allocations, none twice%n",
          maxA, maxB, granted.size());
    } finally {
      for (Process p : procs) {
        p.destroyForcibly();
      }
    }
  }

  /** Checks one process's lines: unique allocations, increasing versions above {@code floor}; returns the highest version. */
  private static long check(List<String> lines, Set<String> granted, long floor) {
    long max = floor;
    for (String l : lines) {
      String[] w = l.substring(0, l.length() - 1).split(" ");
      if (w[0].equals("ALLOC")) {
        if (!granted.add(w[1] + " " + w[2])) {
          fail(w[1] + " " + w[2] + " handed out twice");
        }
      } else if (w[0].equals("PUB") || w[0].equals("AFTER")) {
        long v = Long.parseLong(w[2]);
        assertTrue(v > max, "version " + v + " after " + max);
        max = v;
      }
    }
    return max;
  }

  private Process launch(String[] common, String name) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), RootProcess.class.getName()));
    cmd.addAll(List.of(common));
    cmd.add(name);
    cmd.add("failover");
    return new ProcessBuilder(cmd).redirectError(dir.resolve("root-" + name + ".err").toFile()).start();
  }

  private static Resolution resolve(WorkerResolver w, SemanticName n) throws Exception {
    return w.resolve(n).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static long awaitFound(WorkerResolver w, SemanticName n, int seconds) throws Exception {
    long end = System.currentTimeMillis() + seconds * 1000L;
    Resolution r = null;
    while (System.currentTimeMillis() < end) {
      r = resolve(w, n);
      if (r.isFound()) {
        return System.currentTimeMillis();
      }
      Thread.sleep(100);
    }
    fail("never resolved " + n + ": last " + r);
    return 0;
  }
}
