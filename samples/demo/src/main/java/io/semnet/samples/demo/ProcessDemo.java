package io.semnet.samples.demo;

import static io.semnet.samples.demo.Demo.curlTimes;
import static io.semnet.samples.demo.Report.info;
import static io.semnet.samples.demo.Report.step;

import io.semnet.control.ServiceDescriptor;
import io.semnet.core.address.Addresses;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.SemanticName;
import io.semnet.core.service.ServiceId;
import io.semnet.samples.cluster.ProcessCluster;
import io.semnet.samples.cluster.ProcessCluster.Link;
import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The main demo in the deployable shape: mosquitto with TLS, one controller process and three agent
 * processes (w1 Munich; w2 Berlin behind 25 ms of added one-way delay; w3 Hamburg behind NAT), each
 * node in its own JVM and network namespace, enrolled with one-time join tokens; this JVM is the
 * orchestrator (the remote orchestration client) and the simulated underlay. The same scenarios as
 * the in-JVM demo, except the stateful migrations (see samples/README.md), are run with real
 * clients (curl through glibc's resolver and the node's DNS responder).
 */
final class ProcessDemo {
  private static final int PORT = Demo.PORT;
  private final Report report = new Report("mqtt+tls");

  boolean run(Path json) throws Exception {
    ServiceId web = ServiceId.of("web", "tum", "hello", "prod");
    ServiceId client = ServiceId.of("shop", "tum", "client", "prod");
    long t0 = System.nanoTime();
    // five JVMs share two cores here: C1 and the serial collector start them fastest
    try (ProcessCluster cluster = new ProcessCluster(ProcessCluster.jar("agent"), ProcessCluster.jar("controller"), pluginPath())
        .jvmOptions("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC").keepaliveInterval("1s")) {
      try {
        scenarios(cluster, web, client);
      } catch (Exception | AssertionError e) {
        report.record("the demo ran to its end", "no error", e.toString(), false);
        cluster.processes().forEach(p -> {
          if (!p.role().equals("broker")) {
            info("last lines of " + p.name() + ":\n" + tail(cluster.log(p.name()), 15));
          }
        });
      } finally {
        cluster.processes().forEach(p -> report.process(p.role(), p.name(), p.process().pid()));
        step("summary (" + (System.nanoTime() - t0) / 1_000_000_000 + " s)");
        report.printSummary();
        step("stopping the agents (SIGTERM: each removes its devices), the controller and the broker");
      }
    }
    if (json != null) {
      report.writeJson(json);
    }
    step(report.allPassed() ? "all scenarios passed; everything torn down" : "SOME SCENARIOS FAILED; everything torn down");
    return report.allPassed();
  }

  private void scenarios(ProcessCluster cluster, ServiceId web, ServiceId client) throws Exception {
    step("control plane: mosquitto with TLS (certs init: CA, per-process client certificates, ACL) and the controller process");
    cluster.startControlPlane();
    step("workers: one agent process each, enrolled with a one-time join token from 'controller token create': "
        + "w1 (Munich), w2 (Berlin, +25 ms underlay delay), w3 (Hamburg, behind NAT)");
    cluster.addWorker("w1", Link.DIRECT, GeoPoint.of(48.14, 11.58));
    cluster.addWorker("w2", Link.IMPAIRED, GeoPoint.of(52.52, 13.40));
    cluster.underlay().impair("w2", 25, 0, 0);
    cluster.addWorker("w3", Link.NAT, GeoPoint.of(53.55, 9.99));
    cluster.processes().forEach(p -> info(p.role() + " " + p.name() + ": pid " + p.process().pid()));
    var nodes = ProcessCluster.retry(() -> cluster.orchestration().nodes());
    nodes.forEach(n -> info(n.nodeId() + ": subnet " + n.subnetV4() + " / " + n.subnetV6() + ", tunnel " + n.endpoint().address()));
    long agents = cluster.processes().stream().filter(p -> p.role().equals("agent") && p.process().isAlive()).count();
    int healthy = 0;
    for (String w : List.of("w1", "w2", "w3")) {
      var h = new com.fasterxml.jackson.databind.ObjectMapper().readTree(cluster.health(w));
      healthy += h.path("enrolled").asBoolean() && h.path("online").asBoolean() && h.path("forwarding").asBoolean() ? 1 : 0;
    }
    record("three agents enrolled with join tokens", "3 agent processes, 3 nodes at the root, each enrolled, online, forwarding",
        agents + " agent processes, " + nodes.size() + " nodes at the root, " + healthy + " say enrolled/online/forwarding",
        agents == 3 && nodes.size() == 3 && healthy == 3);

    step("deploy " + web + " (2 instances) and " + client + " (1 instance) through the remote orchestration API (signed calls)");
    ServiceRecord record = ProcessCluster.retry(() -> cluster.orchestration().deploy(ServiceDescriptor.builder(web).instances(2).build()));
    ProcessCluster.retry(() -> cluster.orchestration().deploy(ServiceDescriptor.builder(client).instances(1).build()));
    record.serviceIps().forEach(ip -> info(SemanticName.ofPolicy(web, ip.policy()) + " -> " + Addresses.format(ip.address())));
    step("attach instances with 'agent attach' (each a network namespace with a web server)");
    ProcessCluster.Instance i0 = cluster.startInstance("w1", web, 0).serveHttp(PORT);
    ProcessCluster.Instance i1 = cluster.startInstance("w2", web, 1).serveHttp(PORT);
    ProcessCluster.Instance c = cluster.startInstance("w3", client, 0);
    for (ProcessCluster.Instance i : List.of(i0, i1, c)) {
      info(i.label() + " at " + i.attached("ipv4") + ", InstanceIP " + i.attached("instanceIpv4"));
    }

    String oneName = SemanticName.ofInstance(web, 1).toString();
    String rrName = Demo.byNumberAndRoundRobin(report, c::run, web);

    String closestName = SemanticName.ofPolicy(web, "closest").toString();
    step("closest: w2 is 50 ms away (RTT), w1 is not; the tunnels' keepalives (every second here) measure RTT, then curl " + closestName);
    long waitStart = System.nanoTime();
    try {
      ProcessCluster.waitFor(() -> curlTimes(c::run, closestName, 1).get(0).equals("hello#0@w1"), 60, "closest picking w1");
    } catch (IllegalStateException e) {
      info("closest did not settle on w1 within 60 s");
    }
    long waited = (System.nanoTime() - waitStart) / 1_000_000_000;
    List<String> closest = curlTimes(c::run, closestName, 3);
    record("closest picks the nearest", "hello#0@w1 every time", String.join(" ", closest) + " (after " + waited + " s of RTT measurement)",
        closest.stream().allMatch(s -> s.equals("hello#0@w1")));

    Demo.pluginPolicy(report, c::run, web);

    step("failover: kill hello#0's server on w1 and detach it ('agent detach'), then curl the rr name four times");
    cluster.kill(i0);
    List<String> after = new ArrayList<>();
    ProcessCluster.waitFor(() -> {
      after.clear();
      after.addAll(curlTimes(c::run, rrName, 4));
      return after.stream().allMatch(s -> s.equals("hello#1@w2"));
    }, 20, "rr answered by the survivor only");
    record("failover to the survivor", "hello#1@w2 every time", String.join(" ", after),
        after.stream().allMatch(s -> s.equals("hello#1@w2")));

    step("cold migration: 'agent detach' hello#1 on w2, 'agent attach' the same namespace on w1; the InstanceIP stays");
    String before = i1.attached("instanceIpv4");
    long m0 = System.nanoTime();
    cluster.migrate(i1, "w1");
    List<String> moved = new ArrayList<>();
    ProcessCluster.waitFor(() -> {
      moved.clear();
      moved.addAll(curlTimes(c::run, oneName, 1));
      return moved.get(0).equals("hello#1@w1");
    }, 30, "hello#1 reachable at w1");
    long ms = (System.nanoTime() - m0) / 1_000_000;
    String afterIp = i1.attached("instanceIpv4");
    record("migration keeps the InstanceIP", before + " reaches w1", afterIp + " -> " + moved.get(0) + " " + ms
        + " ms after the detach (two agent commands, each a JVM start)", before.equals(afterIp) && moved.get(0).equals("hello#1@w1"));
    List<String> byIp = curlTimes(c::run, afterIp, 1);
    record("InstanceIP answers from the new place", "hello#1@w1", byIp.get(0), byIp.get(0).equals("hello#1@w1"));
  }

  private void record(String scenario, String expected, String observed, boolean pass) {
    report.record(scenario, expected, observed, pass);
  }

  /** The policy plugin jar(s) on this JVM's class path, to put on the controller's and agents' too. */
  private static String pluginPath() {
    return Stream.of(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(e -> e.contains("policy-plugin")).map(e -> Path.of(e).toAbsolutePath().toString())
        .collect(Collectors.joining(File.pathSeparator));
  }

  private static String tail(String text, int lines) {
    List<String> all = text.lines().collect(Collectors.toList());
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }
}
