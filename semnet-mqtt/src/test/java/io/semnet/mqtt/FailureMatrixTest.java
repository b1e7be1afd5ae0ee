package io.semnet.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.semnet.control.ProcessLines;
import io.semnet.control.RootKeyFile;
import io.semnet.control.store.PostgresCluster;
import io.semnet.core.policy.CandidateSet;
import io.semnet.core.policy.InstanceSelector;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.policy.RoutingPolicyRegistry;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.ServiceRecord;
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
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15 item 5, the thesis's failure matrix (§4, table 4.1) at the control plane, with real
 * processes: the root ({@link RootProcess}: on a journal, or two on PostgreSQL for the HA root) and
 * the cluster managers c1, c2 ({@link ClusterProcess}) are separate JVMs on a real mosquitto; the
 * workers w1, w2 (in c1) and w3 (in c2) run here, w4 (c2) is a separate JVM ({@link WorkerProcess}).
 * Services {@code a/on-w2-K} run on w2 and {@code a/on-w3-K} on w3; {@code a/spread} has #0 on w4
 * and #1 on w2. A failure is a SIGKILL. Each cell is asserted as the design says and what was
 * observed is printed as a table row.
 *
 * <p>A node down: w4's MQTT last will makes both clusters push an availability hint, so w1 and w3
 * take w4's instances out of selection (the data path's own signals, passive health and tunnel
 * probes, are PeerKillTest's); the record stays as it was (hints are not records).
 */
@Privileged
class FailureMatrixTest {
  @TempDir Path dir;
  private final List<Process> procs = new ArrayList<>();
  private final List<String> rows = new ArrayList<>();

  @Test
  void withoutHaRoot() throws Exception {
    run(false);
  }

  @Test
  void withHaRoot() throws Exception {
    run(true);
  }

  private void run(boolean ha) throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(MosquittoBroker.BINARY), "mosquitto is not installed");
    Assumptions.assumeTrue(!ha || PostgresCluster.available(), "PostgreSQL 15 is not installed");
    Path keyFile = dir.resolve("root.key");
    RootAuthority key = RootKeyFile.generate(keyFile);
    PostgresCluster pg = ha ? PostgresCluster.start() : null;
    try (MosquittoBroker broker = MosquittoBroker.start()) {
      String store;
      if (pg != null) {
        pg.createDatabase("semnet");
        store = pg.jdbcUrl("semnet");
      } else {
        store = "journal:" + dir.resolve("root.journal");
      }
      ProcessLines rootA = ProcessLines.of(launch(RootProcess.class, broker.tcpUri(), store, keyFile.toString(), "a", "matrix"));
      assertNotNull(rootA.awaitMatch("SETUP;"::equals, 60_000), "root a set up: " + rootA.all());
      ProcessLines rootB = null;
      if (ha) {
        rootB = ProcessLines.of(launch(RootProcess.class, broker.tcpUri(), store, keyFile.toString(), "b", "matrix"));
      }
      Process c2 = launch(ClusterProcess.class, broker.tcpUri(), key.trust().toBase64(), "c2");
      ProcessLines c1Lines = ProcessLines.of(launch(ClusterProcess.class, broker.tcpUri(), key.trust().toBase64(), "c1"));
      ProcessLines c2Lines = ProcessLines.of(c2);
      // Every node runs its worker resolver (a cluster keeps the records deployed on its connected nodes).
      List<MqttTransport> ts = new ArrayList<>();
      List<WorkerResolver> ws = new ArrayList<>();
      List<LocalNodeView> views = new ArrayList<>();
      for (String n : List.of("w1", "w2", "w3")) {
        MqttTransport t = mqtt(broker, n);
        ts.add(t);
        LocalNodeView v = new LocalNodeView(n, null);
        views.add(v);
        ws.add(worker(t, n, n.equals("w3") ? "c2" : "c1", key, v));
      }
      ProcessLines w4Lines = ProcessLines.of(launch(WorkerProcess.class, broker.tcpUri(), key.trust().toBase64(), "w4", "c2"));
      Process w4 = procs.get(procs.size() - 1);
      WorkerResolver w1 = ws.get(0);
      WorkerResolver w3 = ws.get(2);
      LocalNodeView v1 = views.get(0);
      LocalNodeView v3 = views.get(2);
      assertNotNull(c1Lines.awaitMatch("READY;"::equals, 60_000), "c1 up");
      assertNotNull(c2Lines.awaitMatch("READY;"::equals, 60_000), "c2 up");
      if (rootB != null) {
        assertNotNull(rootB.awaitMatch("STANDBY;"::equals, 60_000), "root b waits");
      }
      try {
        awaitFound(w1, "on-w2-0", 30);
        awaitFound(w1, "on-w3-0", 30);
        awaitFound(w3, "on-w2-0", 30);
        assertNotNull(w4Lines.awaitMatch("READY;"::equals, 60_000), "w4 up: " + w4Lines.all());
        String variant = ha ? "HA root" : "single root";

        // A node down: w4 killed; its instances leave selection at w1 (c1) and w3 (c2), the record stays.
        ServiceRecord spread = resolve(w1, "spread").route().record();
        awaitFound(w3, "spread", 10);
        long killedNode = System.nanoTime();
        w4.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        awaitDown(v1, "w4");
        long atW1 = ms(killedNode);
        awaitDown(v3, "w4");
        long atW3 = ms(killedNode);
        ServiceRecord after = resolve(w1, "spread").route().record();
        assertEquals(spread, after, "an availability hint changes no record");
        StringBuilder chosen = new StringBuilder();
        for (LocalNodeView v : List.of(v1, v3)) {
          assertFalse(v.isAvailable(after.instance(0)), "spread#0 on w4 unavailable at " + v.localNodeId());
          assertTrue(v.isAvailable(after.instance(1)), "spread#1 on w2 available at " + v.localNodeId());
          InstanceSelector rr = RoutingPolicyRegistry.getDefaultRegistry().policy("rr").newSelector();
          for (int i = 0; i < 4; i++) {
            int c = rr.select(candidates(after), i, v);
            assertEquals(1, c, "rr at " + v.localNodeId() + " chooses the instance on the live node");
            chosen.append(c);
          }
        }
        // w4 comes back: available again at both
        long restarted = System.nanoTime();
        ProcessLines w4Again = ProcessLines.of(launch(WorkerProcess.class, broker.tcpUri(), key.trust().toBase64(), "w4", "c2"));
        assertNotNull(w4Again.awaitMatch("READY;"::equals, 60_000), "w4 up again: " + w4Again.all());
        awaitUp(v1, "w4");
        awaitUp(v3, "w4");
        rows.add(row(variant, "a node down (w4)", "its instances unreachable; clients reach other instances of the same service",
            "w4's last will: w1 (c1) marked w4 unavailable " + atW1 + " ms after SIGKILL, w3 (c2) " + atW3
                + " ms; spread#0 (w4) skipped, rr chose #1 (w2) 8 of 8; record unchanged (version " + after.version()
                + "); w4 restarted: available again at w1 and w3 " + ms(restarted) + " ms after its JVM was launched"));

        // Cluster manager c2 down: its workers are offline.
        c2.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        assertTrue(resolve(w3, "on-w2-0").isFound(), "w3 keeps its cached route out of the offline cluster");
        assertTrue(resolve(w1, "on-w3-0").isFound(), "w1 keeps its cached route into the offline cluster");
        Resolution newFromOffline = resolve(w3, "on-w2-1");
        assertFalse(newFromOffline.isFound(), "the offline cluster's worker learns no new route: " + newFromOffline);
        long t = System.nanoTime();
        awaitFound(w1, "on-w3-1", 10);
        rows.add(row(variant, "cluster manager c2 down",
            "c2's workers offline: cached routes work both ways, no new routes; instances elsewhere still reach them",
            "cached w3->w2 and w1->w3 resolve; new route at w3: " + newFromOffline.status() + "; new route w1->w3 learned in "
                + ms(t) + " ms"));

        // Root down (c2 still down): inside a cluster intact; across clusters cached only.
        Process root = procs.get(0);
        long killed = System.nanoTime();
        root.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        assertTrue(resolve(w1, "on-w3-0").isFound(), "cached cross-cluster route keeps working");
        t = System.nanoTime();
        awaitFound(w1, "on-w2-2", 10);
        String intra = "new route inside c1 learned in " + ms(t) + " ms";
        if (!ha) {
          Resolution across = resolveWhileDown(w1, "on-w3-2");
          assertFalse(across.isFound(), "no new cross-cluster route while the root is down: " + across);
          rows.add(row(variant, "root down", "inside a cluster intact; across clusters cached routes work, no new ones",
              intra + "; cached w1->w3 resolves; new route w1->w3: " + across.status()));
        } else {
          String leader = rootB.awaitMatch(l -> l.startsWith("LEADER "), 30_000);
          assertNotNull(leader, "the standby took over: " + rootB.all());
          long takeover = ms(killed);
          t = System.nanoTime();
          awaitFound(w1, "on-w3-2", 15);
          rows.add(row(variant, "root (leader) down",
              "as above until a standby leads; then new routes are learned again",
              intra + "; cached w1->w3 resolves; standby led after <= " + takeover + " ms; new route w1->w3 learned "
                  + ms(t) + " ms after that"));
        }
      } finally {
        ws.forEach(WorkerResolver::close);
        ts.forEach(MqttTransport::close);
      }
    } finally {
      for (Process p : procs) {
        p.destroyForcibly();
      }
      if (pg != null) {
        pg.close();
      }
      rows.forEach(r -> System.out.println("FailureMatrixTest: " + r));
    }
  }

  private static String row(String variant, String failure, String design, String observed) {
    return "| " + failure + " (" + variant + ") | " + design + " | " + observed + " |";
  }

  private static long ms(long since) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
  }

  private Process launch(Class<?> main, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), main.getName()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectError(dir.resolve(main.getSimpleName() + "-" + procs.size() + ".err").toFile()).start();
    procs.add(p);
    return p;
  }

  private static MqttTransport mqtt(MosquittoBroker broker, String id) {
    return MqttTransport.builder().brokerUri(broker.tcpUri()).clientId(id).reconnectDelay(Duration.ofMillis(50), Duration.ofMillis(500)).build();
  }

  private static WorkerResolver worker(MqttTransport t, String id, String cluster, RootAuthority key, LocalNodeView view) {
    WorkerResolver w = WorkerResolver.builder().nodeId(id).manager(cluster).transport(t).rootTrust(key.trust())
        .requestTimeout(Duration.ofSeconds(2)).maintenanceInterval(Duration.ofMillis(500)).renewInterval(Duration.ofSeconds(1))
        .negativeTtl(Duration.ofMillis(100)).build();
    w.start(io.semnet.testing.Fixtures.context(id, view, w));
    return w;
  }

  private static void awaitDown(LocalNodeView v, String peer) throws InterruptedException {
    awaitPeer(v, peer, false);
  }

  private static void awaitUp(LocalNodeView v, String peer) throws InterruptedException {
    awaitPeer(v, peer, true);
  }

  private static void awaitPeer(LocalNodeView v, String peer, boolean up) throws InterruptedException {
    long end = System.currentTimeMillis() + 30_000;
    while (v.isPeerUp(peer) != up) {
      if (System.currentTimeMillis() > end) {
        fail(v.localNodeId() + " never learned that " + peer + " is " + (up ? "up" : "down"));
      }
      Thread.sleep(5);
    }
  }

  private static CandidateSet candidates(ServiceRecord r) {
    return new CandidateSet() {
      @Override
      public int size() {
        return r.instances().size();
      }

      @Override
      public InstanceRecord get(int index) {
        return r.instances().get(index);
      }

      @Override
      public long generation() {
        return r.version();
      }
    };
  }

  private static SemanticName name(String service) {
    return SemanticName.ofPolicy(ServiceId.of("app", "a", service, "prod"), "first");
  }

  private static Resolution resolve(WorkerResolver w, String service) throws Exception {
    return w.resolve(name(service)).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** Asks a few times over a second: a route that cannot be learned stays unresolved. */
  private static Resolution resolveWhileDown(WorkerResolver w, String service) throws Exception {
    Resolution r = null;
    for (int i = 0; i < 5; i++) {
      r = resolve(w, service);
      if (r.isFound()) {
        return r;
      }
      Thread.sleep(200);
    }
    return r;
  }

  private static void awaitFound(WorkerResolver w, String service, int seconds) throws Exception {
    long end = System.currentTimeMillis() + seconds * 1000L;
    Resolution r = null;
    while (System.currentTimeMillis() < end) {
      r = resolve(w, service);
      if (r.isFound()) {
        return;
      }
      Thread.sleep(50);
    }
    fail("never resolved " + service + ": last " + r);
  }
}
