package io.semnet.samples.demo;

import io.semnet.core.address.Addresses;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.RouteListener;
import io.semnet.core.service.SemanticName;
import io.semnet.core.service.ServiceId;
import io.semnet.resolver.ServiceDescriptor;
import io.semnet.samples.cluster.LocalCluster;
import io.semnet.samples.cluster.Shell;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The main demo: a root and a cluster manager, three workers on a simulated underlay (w2 with 25 ms
 * of added delay, w3 behind NAT, reachable only on its tunnel port), a web service with instances on
 * w1 and w2 and a client on w3. Real clients (curl, glibc's resolver) exercise round-robin, closest,
 * one instance by number, failover and migration, then a summary table is printed. Everything is
 * torn down at the end, also on failure or Ctrl-C. Run as root.
 */
public final class Demo {
  private static final int PORT = 8080;
  private final List<String[]> summary = new ArrayList<>();
  private boolean allPassed = true;

  public static void main(String[] args) throws Exception {
    System.exit(new Demo().run() ? 0 : 1);
  }

  private static void step(String text) {
    System.out.println();
    System.out.println("==> " + text);
  }

  private static void info(String text) {
    System.out.println("    " + text);
  }

  private void record(String scenario, String expected, String observed, boolean pass) {
    summary.add(new String[] {scenario, expected, observed, pass ? "PASS" : "FAIL"});
    allPassed &= pass;
    info((pass ? "PASS " : "FAIL ") + scenario + ": " + observed);
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
      cluster.workers().forEach(w -> info(w.name() + ": subnet " + w.registration().subnetV4() + " / " + w.registration().subnetV6()
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

      String zeroName = SemanticName.ofInstance(web, 0).toString();
      String oneName = SemanticName.ofInstance(web, 1).toString();
      step("one instance by number: curl http://" + zeroName + ":" + PORT + "/ and " + oneName);
      List<String> zero = curlTimes(c, zeroName, 2);
      record("0.none reaches instance 0", "hello#0@w1", String.join(" ", zero), zero.stream().allMatch(s -> s.equals("hello#0@w1")));
      List<String> one = curlTimes(c, oneName, 2);
      record("1.none reaches instance 1", "hello#1@w2", String.join(" ", one), one.stream().allMatch(s -> s.equals("hello#1@w2")));

      String rrName = SemanticName.ofPolicy(web, "rr").toString();
      step("round robin: curl http://" + rrName + ":" + PORT + "/ six times from the client");
      List<String> rr = curlTimes(c, rrName, 6);
      boolean alternates = rr.size() == 6 && !rr.contains("ERR");
      for (int k = 1; k < rr.size() && alternates; k++) {
        alternates = !rr.get(k).equals(rr.get(k - 1));
      }
      record("rr alternates", "hello#0 and hello#1 in turn", String.join(" ", rr), alternates);

      String closestName = SemanticName.ofPolicy(web, "closest").toString();
      step("closest: w2 is 50 ms away (RTT), w1 is not; wait for keepalive RTTs, then curl " + closestName);
      LocalCluster.waitFor(() -> cluster.worker("w3").node().view().rttNanos("w2") > 0
          && cluster.worker("w3").node().view().rttNanos("w1") >= 0, "RTT measurements on w3");
      info(String.format("w3 measured RTT to w1 %.1f ms, to w2 %.1f ms",
          cluster.worker("w3").node().view().rttNanos("w1") / 1e6, cluster.worker("w3").node().view().rttNanos("w2") / 1e6));
      List<String> closest = curlTimes(c, closestName, 3);
      record("closest picks the nearest", "hello#0@w1 every time", String.join(" ", closest),
          closest.stream().allMatch(s -> s.equals("hello#0@w1")));

      String pluginName = SemanticName.ofPolicy(web, "leastflows").toString();
      step("a plugin policy from its own jar (samples/policy-plugin): curl http://" + pluginName + ":" + PORT + "/");
      List<String> plugin = curlTimes(c, pluginName, 2);
      record("plugin policy leastflows", "served by hello#0 or hello#1", String.join(" ", plugin),
          plugin.stream().allMatch(s -> s.startsWith("hello#")));

      step("failover: kill hello#0 on w1, then curl the rr name four times");
      cluster.kill(i0);
      List<String> after = curlTimes(c, rrName, 4);
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
              applied.putIfAbsent(w.name(), System.nanoTime());
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
        moved.addAll(curlTimes(c, oneName, 1));
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

      step("summary");
      printSummary();
    }
    step(allPassed ? "all scenarios passed; everything torn down" : "SOME SCENARIOS FAILED; everything torn down");
    return allPassed;
  }

  /** Runs curl by name {@code times} times; each entry is the body or "ERR". */
  static List<String> curlTimes(LocalCluster.Instance client, String name, int times) {
    List<String> out = new ArrayList<>();
    for (int k = 0; k < times; k++) {
      Shell.Result r = client.run(10, "curl", "-s", "--max-time", "5", "http://" + name + ":" + PORT + "/");
      out.add(r.ok() ? r.output().trim() : "ERR");
    }
    return out;
  }

  private void printSummary() {
    Map<Integer, Integer> width = new LinkedHashMap<>();
    String[] head = {"scenario", "expected", "observed", "result"};
    List<String[]> rows = new ArrayList<>();
    rows.add(head);
    rows.addAll(summary);
    for (String[] r : rows) {
      for (int k = 0; k < r.length; k++) {
        width.merge(k, r[k].length(), Math::max);
      }
    }
    for (String[] r : rows) {
      StringBuilder sb = new StringBuilder("    ");
      for (int k = 0; k < r.length; k++) {
        sb.append(String.format("%-" + width.get(k) + "s  ", r[k]));
      }
      System.out.println(sb.toString().stripTrailing());
    }
  }
}
