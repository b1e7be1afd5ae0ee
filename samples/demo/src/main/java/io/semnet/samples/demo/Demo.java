package io.semnet.samples.demo;

import io.semnet.core.address.Addresses;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.RouteListener;
import io.semnet.core.service.SemanticName;
import io.semnet.core.service.ServiceId;
import io.semnet.testkit.MigrationReport;
import io.semnet.control.ServiceDescriptor;
import io.semnet.samples.cluster.LocalCluster;
import io.semnet.samples.cluster.Migration;
import io.semnet.samples.cluster.MigrationTraffic;
import io.semnet.samples.cluster.Shell;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The main demo: a root and a cluster manager, three workers on a simulated underlay (w2 with 25 ms
 * of added delay, w3 behind NAT, reachable only on its tunnel port), a web service with instances on
 * w1 and w2 and a client on w3. Real clients (curl, glibc's resolver) exercise round-robin, closest,
 * one instance by number, failover, a cold migration and a stateful make-before-break migration
 * (with and without buffering, under a 1 ms UDP stream and a TCP connection, printing its KPIs),
 * then a summary table is printed. Everything is
 * torn down at the end, also on failure or Ctrl-C. Run as root.
 */
public final class Demo {
  static final int PORT = 8080;
  private final Report report = new Report("in-process");

  /**
   * {@code demo.sh [--json FILE] [--in-jvm]}: by default the process demo ({@link ProcessDemo}: mosquitto with
   * TLS, a controller and three agent processes); {@code --in-jvm} runs this one (every node in this JVM,
   * with the stateful migrations the agent processes cannot do yet).
   */
  public static void main(String[] args) throws Exception {
    java.nio.file.Path json = null;
    boolean inJvm = false;
    for (int k = 0; k < args.length; k++) {
      if (args[k].equals("--json") && k + 1 < args.length) {
        json = java.nio.file.Path.of(args[++k]);
      } else if (args[k].equals("--in-jvm")) {
        inJvm = true;
      } else {
        System.err.println("usage: demo.sh [--json FILE] [--in-jvm]");
        System.exit(2);
      }
    }
    boolean passed;
    if (inJvm) {
      Demo d = new Demo();
      passed = d.run();
      if (json != null) {
        d.report.writeJson(json);
      }
    } else {
      passed = new ProcessDemo().run(json);
    }
    System.exit(passed ? 0 : 1);
  }

  private static void step(String text) {
    Report.step(text);
  }

  private static void info(String text) {
    Report.info(text);
  }

  private void record(String scenario, String expected, String observed, boolean pass) {
    report.record(scenario, expected, observed, pass);
  }

  boolean run() throws Exception {
    ServiceId web = ServiceId.of("web", "tum", "hello", "prod");
    ServiceId client = ServiceId.of("shop", "tum", "client", "prod");
    try (LocalCluster cluster = new LocalCluster()) {
      step("control plane: root and cluster service manager (in-process), policies " + cluster.orchestration().platformPolicies());
      step("workers: w1 (Munich), w2 (Berlin, +25 ms underlay delay), w3 (Hamburg, behind NAT)");
      cluster.addWorker("w1", GeoPoint.of(48.14, 11.58));
      cluster.addImpairedWorker("w2", GeoPoint.of(52.52, 13.40));
      cluster.impair("w2", 25, 0, 0);
      cluster.addWorkerBehindNat("w3", "nat1", GeoPoint.of(53.55, 9.99));
      cluster.workers().forEach(w -> info(w.nodeId() + ": subnet " + w.registration().subnetV4() + " / " + w.registration().subnetV6()
          + ", tunnel " + w.endpoint().address()));

      step("deploy " + web + " (2 instances) and " + client + " (1 instance)");
      var record = cluster.deploy(ServiceDescriptor.builder(web).instances(2).build());
      cluster.deploy(ServiceDescriptor.builder(client).instances(1).build());
      record.serviceIps().forEach(ip -> info(SemanticName.ofPolicy(web, ip.policy()) + " -> " + Addresses.format(ip.address())));
      LocalCluster.Instance i0 = cluster.startInstance("w1", web, 0).serveHttp(PORT);
      LocalCluster.Instance i1 = cluster.startInstance("w2", web, 1).serveHttp(PORT);
      LocalCluster.Instance c = cluster.startInstance("w3", client, 0);
      info(i0.label() + " at " + Addresses.format(i0.record().locator().namespaceIpv4()) + ", InstanceIP "
          + Addresses.format(i0.record().instanceIpv4().address()));
      info(i1.label() + " at " + Addresses.format(i1.record().locator().namespaceIpv4()) + ", InstanceIP "
          + Addresses.format(i1.record().instanceIpv4().address()));
      info("client " + c.label() + " at " + Addresses.format(c.record().locator().namespaceIpv4()));

      String oneName = SemanticName.ofInstance(web, 1).toString();
      String rrName = byNumberAndRoundRobin(report, c::run, web);

      String closestName = SemanticName.ofPolicy(web, "closest").toString();
      step("closest: w2 is 50 ms away (RTT), w1 is not; wait for keepalive RTTs, then curl " + closestName);
      LocalCluster.waitFor(() -> cluster.worker("w3").view().rttNanos("w2") > 0
          && cluster.worker("w3").view().rttNanos("w1") >= 0, "RTT measurements on w3");
      info(String.format("w3 measured RTT to w1 %.1f ms, to w2 %.1f ms",
          cluster.worker("w3").view().rttNanos("w1") / 1e6, cluster.worker("w3").view().rttNanos("w2") / 1e6));
      List<String> closest = curlTimes(c::run, closestName, 3);
      record("closest picks the nearest", "hello#0@w1 every time", String.join(" ", closest),
          closest.stream().allMatch(s -> s.equals("hello#0@w1")));

      pluginPolicy(report, c::run, web);

      step("failover: kill hello#0 on w1, then curl the rr name four times");
      cluster.kill(i0);
      List<String> after = curlTimes(c::run, rrName, 4);
      record("failover to the survivor", "hello#1@w2 every time", String.join(" ", after),
          after.stream().allMatch(s -> s.equals("hello#1@w2")));

      step("migration: move hello#1 from w2 to w1 keeping its InstanceIP");
      String before = Addresses.format(i1.record().instanceIpv4().address());
      Map<String, Long> applied = new java.util.concurrent.ConcurrentHashMap<>();
      List<Runnable> unlisten = new ArrayList<>();
      for (var w : cluster.workers()) {
        RouteListener l = new RouteListener() {
          @Override
          public void onRecordUpdated(ServiceRecord previous, ServiceRecord current) {
            var moved = current.service().equals(web) ? current.instance(1) : null;
            if (moved != null && moved.locator() != null && moved.locator().worker().nodeId().equals("w1")) {
              applied.putIfAbsent(w.nodeId(), System.nanoTime());
            }
          }

          @Override
          public void onServiceRemoved(ServiceId service) {}
        };
        w.resolver().addListener(l);
        unlisten.add(() -> w.resolver().removeListener(l));
      }
      long t0 = cluster.migrate(i1, "w1");
      i1.serveHttp(PORT);
      List<String> moved = new ArrayList<>();
      LocalCluster.waitFor(() -> {
        moved.clear();
        moved.addAll(curlTimes(c::run, oneName, 1));
        return moved.get(0).equals("hello#1@w1");
      }, "hello#1 reachable at w1");
      long ms = (System.nanoTime() - t0) / 1_000_000;
      unlisten.forEach(Runnable::run);
      applied.forEach((node, t) -> info(String.format("%s applied the new locator %.1f ms after it was published", node, (t - t0) / 1e6)));
      info(String.format("convergence over the %d interested node(s): %.1f ms; first reply from the new place after %d ms",
          applied.size(), applied.values().stream().mapToLong(t -> t - t0).max().orElse(0) / 1e6, ms));
      String afterIp = Addresses.format(i1.record().instanceIpv4().address());
      record("migration keeps the InstanceIP", before + " reaches w1", afterIp + " -> " + moved.get(0) + " after " + ms + " ms",
          before.equals(afterIp) && moved.get(0).equals("hello#1@w1"));

      statefulMigration(cluster, i1, c);

      step("summary");
      report.printSummary();
    }
    step(report.allPassed() ? "all scenarios passed; everything torn down" : "SOME SCENARIOS FAILED; everything torn down");
    return report.allPassed();
  }

  /**
   * Stateful make-before-break migration: the instance's namespace (processes, sockets) lives on
   * and keeps its namespace IP; the source node holds its packets during the freeze and replays
   * them to the new place. Once with buffering, once without, under a 1 ms UDP stream and a TCP
   * connection from the client.
   */
  private void statefulMigration(LocalCluster cluster, LocalCluster.Instance server, LocalCluster.Instance client)
      throws Exception {
    int udp = 9100;
    int tcp = 9101;
    Duration freeze = Duration.ofMillis(300);
    MigrationTraffic.serve(server, udp, tcp);
    var target = server.record().instanceIpv4().address();
    String ns = Addresses.format(server.record().locator().namespaceIpv4());
    for (boolean buffering : new boolean[] {true, false}) {
      String to = server.node().nodeId().equals("w1") ? "w2" : "w1";
      step("stateful migration " + (buffering ? "with" : "without") + " buffering at the source: " + server.label() + " -> " + to
          + ", same namespace IP " + ns + ", freeze " + freeze.toMillis() + " ms, while the client streams UDP every 1 ms"
          + " and keeps one TCP connection busy");
      MigrationTraffic.Client t = MigrationTraffic.start(client, target, udp, tcp, freeze.plusMillis(1900), Duration.ofMillis(1))
          .awaitFlowing();
      Thread.sleep(300);
      MigrationReport r;
      try (Migration m = cluster.migrateStateful(server, to, freeze, buffering)) {
        m.awaitReleased();
        r = m.report(t.await());
        r.tApply().forEach((node, at) -> info(String.format("%s applied the new locator %.1f ms after it was published", node,
            (at - m.tPub()) / 1e6)));
      }
      info(String.format("network share of downtime (t_first - t_up) %.1f ms; whole freeze as the client felt it "
          + "(t_first - t_freeze) %.1f ms", r.networkDowntimeNanos() / 1e6, r.totalDowntimeNanos() / 1e6));
      info(String.format("convergence p50 %.1f ms, p99 %.1f ms over %d interested node(s), %d record pushes",
          r.convergencePercentile(50) / 1e6, r.convergencePercentile(99) / 1e6, r.tApply().size(), r.controlMessages()));
      info(String.format("UDP from the freeze on: %d sent, %d lost, %d duplicated, %d reordered; source held %d, replayed %d, "
          + "overflowed %d, dropped (buffering off) %d; %d late packets forwarded, %d replies relayed; TCP survived %s, resets %d",
          r.udpSent(), r.udpLost(), r.udpDuplicated(), r.udpReordered(), r.buffered(), r.replayed(), r.overflowed(),
          r.droppedFrozen(), r.sentToOldAfterApply(), r.relayed(), r.tcpSurvived(), r.tcpResets()));
      boolean kept = ns.equals(Addresses.format(server.record().locator().namespaceIpv4()));
      String observed = String.format("lost %d of %d UDP, TCP %s, t_first-t_up %.1f ms", r.udpLost(), r.udpSent(),
          Boolean.TRUE.equals(r.tcpSurvived()) ? "survived" : "broke", r.networkDowntimeNanos() / 1e6);
      if (buffering) {
        record("stateful migration, buffered", "same ns IP, TCP survives, UDP loss ~0", observed,
            kept && Boolean.TRUE.equals(r.tcpSurvived()) && r.udpLost() <= Math.max(1, r.udpSent() / 100));
      } else {
        record("stateful migration, unbuffered", "freeze drops counted, none unseen", observed + ", counted " + r.droppedFrozen(),
            kept && r.droppedFrozen() > 0 && r.droppedFrozen() >= r.udpLost() * 9 / 10);
      }
    }
  }

  /** 0.none and 1.none reach their instance, rr alternates; returns the rr name. */
  static String byNumberAndRoundRobin(Report report, InNamespace c, ServiceId web) {
    String zeroName = SemanticName.ofInstance(web, 0).toString();
    String oneName = SemanticName.ofInstance(web, 1).toString();
    step("one instance by number: curl http://" + zeroName + ":" + PORT + "/ and " + oneName);
    List<String> zero = curlTimes(c, zeroName, 2);
    report.record("0.none reaches instance 0", "hello#0@w1", String.join(" ", zero), zero.stream().allMatch(s -> s.equals("hello#0@w1")));
    List<String> one = curlTimes(c, oneName, 2);
    report.record("1.none reaches instance 1", "hello#1@w2", String.join(" ", one), one.stream().allMatch(s -> s.equals("hello#1@w2")));

    String rrName = SemanticName.ofPolicy(web, "rr").toString();
    step("round robin: curl http://" + rrName + ":" + PORT + "/ six times from the client");
    List<String> rr = curlTimes(c, rrName, 6);
    boolean alternates = rr.size() == 6 && !rr.contains("ERR");
    for (int k = 1; k < rr.size() && alternates; k++) {
      alternates = !rr.get(k).equals(rr.get(k - 1));
    }
    report.record("rr alternates", "hello#0 and hello#1 in turn", String.join(" ", rr), alternates);
    return rrName;
  }

  /** The plugin policy from its own jar (samples/policy-plugin) answers. */
  static void pluginPolicy(Report report, InNamespace c, ServiceId web) {
    String pluginName = SemanticName.ofPolicy(web, "leastflows").toString();
    step("a plugin policy from its own jar (samples/policy-plugin): curl http://" + pluginName + ":" + PORT + "/");
    List<String> plugin = curlTimes(c, pluginName, 2);
    report.record("plugin policy leastflows", "served by hello#0 or hello#1", String.join(" ", plugin),
        plugin.stream().allMatch(s -> s.startsWith("hello#")));
  }

  /** Runs a command in an instance's namespace (both clusters' instances do). */
  @FunctionalInterface
  interface InNamespace {
    Shell.Result run(int timeoutSeconds, String... cmd);
  }

  /** Runs curl by name {@code times} times; each entry is the body or "ERR". */
  static List<String> curlTimes(InNamespace client, String name, int times) {
    List<String> out = new ArrayList<>();
    for (int k = 0; k < times; k++) {
      Shell.Result r = client.run(10, "curl", "-s", "--max-time", "5", "http://" + name + ":" + PORT + "/");
      out.add(r.ok() ? r.output().trim() : "ERR");
    }
    return out;
  }
}
