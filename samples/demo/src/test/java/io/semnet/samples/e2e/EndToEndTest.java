package io.semnet.samples.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.Addresses;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.SemanticName;
import io.semnet.core.service.ServiceId;
import io.semnet.proxy.Counter;
import io.semnet.control.ServiceDescriptor;
import io.semnet.samples.cluster.LocalCluster;
import io.semnet.samples.cluster.Shell;
import io.semnet.testing.Privileged;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The whole system in network namespaces: a root and a cluster manager, four workers (w1 and w2
 * behind user-space links whose delay the test sets, w3 and w4 behind one NAT address), a web
 * service with instances on w1 and w2, clients on w3 and w4 and one in another app namespace. Real
 * clients: curl, glibc's resolver, python sockets. Scenarios run in order on one cluster; the ones
 * that break things (kill, migrate, stop the manager) come last.
 */
@Privileged
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EndToEndTest {
  private static final int HTTP = 8080;
  private static final int UDP = 9000;
  private final ServiceId web = ServiceId.of("web", "tum", "hello", "prod");
  private final ServiceId shop = ServiceId.of("shop", "tum", "client", "prod");
  private final ServiceId foreign = ServiceId.of("blog", "lmu", "client", "prod");
  private LocalCluster cluster;
  private LocalCluster.Instance web0;
  private LocalCluster.Instance web1;
  private LocalCluster.Instance client;
  private LocalCluster.Instance natClient;
  private LocalCluster.Instance outsider;
  private ServiceRecord webRecord;
  private byte[] blob;

  @BeforeAll
  void startCluster() throws Exception {
    cluster = new LocalCluster();
    try {
      cluster.addImpairedWorker("w1", GeoPoint.of(48.14, 11.58));
      cluster.addImpairedWorker("w2", GeoPoint.of(52.52, 13.40));
      cluster.addWorkerBehindNat("w3", "nat1", GeoPoint.of(53.55, 9.99));
      cluster.addWorkerBehindNat("w4", "nat1", GeoPoint.of(50.11, 8.68));
      webRecord = cluster.deploy(ServiceDescriptor.builder(web).instances(2).build());
      cluster.deploy(ServiceDescriptor.builder(shop).instances(2).build());
      cluster.deploy(ServiceDescriptor.builder(foreign).instances(1).build());
      web0 = cluster.startInstance("w1", web, 0).serveHttp(HTTP).serveUdpEcho(UDP);
      web1 = cluster.startInstance("w2", web, 1).serveHttp(HTTP).serveUdpEcho(UDP);
      blob = new byte[20 * 1024 * 1024];
      new Random(7).nextBytes(blob);
      Files.write(web0.dir().resolve("blob"), blob);
      client = cluster.startInstance("w3", shop, 0);
      natClient = cluster.startInstance("w4", shop, 1);
      outsider = cluster.startInstance("w3", foreign, 0);
    } catch (Exception | Error e) {
      cluster.close();
      throw e;
    }
  }

  @AfterAll
  void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private String curl(LocalCluster.Instance from, String... args) {
    String[] cmd = new String[args.length + 4];
    cmd[0] = "curl";
    cmd[1] = "-sS";
    cmd[2] = "--max-time";
    cmd[3] = "10";
    System.arraycopy(args, 0, cmd, 4, args.length);
    Shell.Result r = from.run(20, cmd);
    assertTrue(r.ok(), () -> String.join(" ", cmd) + " failed: " + r.output());
    return r.output().trim();
  }

  private String name(String policy) {
    return SemanticName.ofPolicy(web, policy).toString();
  }

  private String udp(LocalCluster.Instance from, String host, String payload) {
    String code = "import socket,sys\n"
        + "ai=socket.getaddrinfo(sys.argv[1]," + UDP + ",0,socket.SOCK_DGRAM)[0]\n"
        + "s=socket.socket(ai[0],socket.SOCK_DGRAM); s.settimeout(3)\n"
        + "for i in range(3):\n"
        + "  s.sendto(sys.argv[2].encode(),ai[4])\n"
        + "  try:\n"
        + "    print(s.recvfrom(2048)[0].decode()); break\n"
        + "  except socket.timeout: pass\n";
    Shell.Result r = from.run(20, "/usr/bin/python3", "-c", code, host, payload);
    assertTrue(r.ok() && !r.output().isBlank(), () -> "UDP to " + host + " failed: " + r.output());
    return r.output().trim();
  }

  @Test
  @Order(1)
  void tcpAndUdpReachServicesByNameAndByAddress() {
    assertEquals("hello#0@w1", curl(client, "http://" + SemanticName.ofInstance(web, 0) + ":" + HTTP + "/"));
    assertEquals("hello#1@w2", curl(client, "http://" + SemanticName.ofInstance(web, 1) + ":" + HTTP + "/"));
    String v4 = Addresses.format(webRecord.serviceIp("rr", true).address());
    String v6 = Addresses.format(webRecord.serviceIp("rr", false).address());
    assertTrue(curl(client, "http://" + v4 + ":" + HTTP + "/").startsWith("hello#"));
    assertTrue(curl(client, "http://[" + v6 + "]:" + HTTP + "/").startsWith("hello#"));
    assertTrue(udp(client, name("rr"), "ping").matches("hello#[01]@w[12]:ping"));
    assertTrue(udp(client, SemanticName.ofInstance(web, 1).toString(), "x").startsWith("hello#1@w2:x"));
    // glibc's own resolver in the client's namespace sees the same answer.
    String getent = client.run(10, "getent", "ahostsv4", name("rr")).output();
    assertTrue(getent.contains(v4), getent);
  }

  @Test
  @Order(2)
  void roundRobinSplitsConnectionsEvenly() {
    // IPv4 only: with both families curl's happy-eyeballs race can open two flows for one request.
    Map<String, Integer> split = new HashMap<>();
    for (int i = 0; i < 20; i++) {
      split.merge(curl(client, "-4", "http://" + name("rr") + ":" + HTTP + "/"), 1, Integer::sum);
    }
    assertEquals(Map.of("hello#0@w1", 10, "hello#1@w2", 10), split);
  }

  @Test
  @Order(3)
  void closestFollowsMeasuredRtt() {
    var view = cluster.worker("w3").view();
    try {
      cluster.impair("w2", 25, 0, 0);
      LocalCluster.waitFor(() -> view.rttNanos("w1") >= 0 && view.rttNanos("w2") > view.rttNanos("w1") + 10_000_000L,
          "w3 measuring w2 as farther");
      for (int i = 0; i < 3; i++) {
        assertEquals("hello#0@w1", curl(client, "-4", "http://" + name("closest") + ":" + HTTP + "/"));
      }
      cluster.impair("w2", 0, 0, 0);
      cluster.impair("w1", 25, 0, 0);
      LocalCluster.waitFor(() -> view.rttNanos("w1") > view.rttNanos("w2") + 10_000_000L, "w3 measuring w1 as farther");
      for (int i = 0; i < 3; i++) {
        assertEquals("hello#1@w2", curl(client, "-4", "http://" + name("closest") + ":" + HTTP + "/"));
      }
    } finally {
      cluster.impair("w1", 0, 0, 0);
      cluster.impair("w2", 0, 0, 0);
    }
  }

  @Test
  @Order(4)
  void twoNodesBehindOneNatAddressAreReachedByPort() {
    assertEquals(cluster.worker("w3").endpoint().address().getAddress(), cluster.worker("w4").endpoint().address().getAddress());
    assertNotEquals(cluster.worker("w3").endpoint().address().getPort(), cluster.worker("w4").endpoint().address().getPort());
    assertTrue(curl(natClient, "http://" + name("rr") + ":" + HTTP + "/").startsWith("hello#"));
    // From outside the NAT, both nodes behind the one public address are reached, each by its port.
    client.serveUdpEcho(UDP);
    natClient.serveUdpEcho(UDP);
    assertEquals("client#0@w3:a", udp(web1, Addresses.format(client.record().instanceIpv4().address()), "a"));
    assertEquals("client#1@w4:b", udp(web1, Addresses.format(natClient.record().instanceIpv4().address()), "b"));
  }

  @Test
  @Order(5)
  void crossNamespaceTrafficWithoutAGrantIsRefused() {
    String v4 = Addresses.format(webRecord.serviceIp("rr", true).address());
    long before = cluster.worker("w3").translator().counter(Counter.ADMIN_PROHIBITED_SENT);
    long t0 = System.nanoTime();
    Shell.Result r = outsider.run(20, "curl", "-sS", "--max-time", "10", "http://" + v4 + ":" + HTTP + "/");
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertNotEquals(0, r.exitCode(), r.output());
    assertTrue(ms < 5000, "refused fast, not by timeout: " + ms + " ms, " + r.output());
    assertTrue(cluster.worker("w3").translator().counter(Counter.ADMIN_PROHIBITED_SENT) > before);
  }

  @Test
  @Order(6)
  void largeTransferSurvivesTwoPercentLossEachWay() throws Exception {
    long[] before = cluster.impairedCounts("w1");
    cluster.impair("w1", 1, 0, 0.02);
    try {
      Shell.Result r = client.run(120, "sh", "-c",
          "curl -sS --max-time 100 http://" + SemanticName.ofInstance(web, 0) + ":" + HTTP + "/blob | sha256sum");
      String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(blob));
      assertTrue(r.ok(), r.output());
      assertEquals(expected, r.output().trim().split("\\s+")[0]);
      long[] after = cluster.impairedCounts("w1");
      long dropped = after[0] - before[0];
      long carried = after[1] - before[1];
      System.out.printf("20 MB over 2%% loss: %d of %d underlay packets dropped%n", dropped, dropped + carried);
      assertTrue(carried > 14_000, "the transfer crossed the impaired link: " + carried);
      assertTrue(dropped > carried / 100, "about 2% of them were lost: " + dropped + " of " + (dropped + carried));
    } finally {
      cluster.impair("w1", 0, 0, 0);
    }
  }

  @Test
  @Order(7)
  void killedInstanceIsRoutedAroundAfterRouteNotFound() {
    long before = cluster.worker("w3").translator().counter(Counter.ROUTE_NOT_FOUND_RECEIVED);
    cluster.kill(web0);
    Map<String, Integer> seen = new HashMap<>();
    int failures = 0;
    for (int i = 0; i < 8; i++) {
      Shell.Result r = client.run(20, "curl", "-4", "-sS", "--max-time", "5", "http://" + name("rr") + ":" + HTTP + "/");
      if (r.ok()) {
        seen.merge(r.output().trim(), 1, Integer::sum);
      } else {
        failures++;
      }
    }
    assertTrue(failures <= 1, "at most the first connection to the dead instance fails: " + failures + " " + seen);
    assertEquals(java.util.Set.of("hello#1@w2"), seen.keySet());
    assertTrue(cluster.worker("w3").translator().counter(Counter.ROUTE_NOT_FOUND_RECEIVED) > before,
        "w1 told w3 the instance is gone");
  }

  @Test
  @Order(8)
  void migratedInstanceKeepsItsInstanceIp() {
    String instanceName = SemanticName.ofInstance(web, 1).toString();
    String before = Addresses.format(web1.record().instanceIpv4().address());
    long t0 = System.nanoTime();
    cluster.migrate(web1, "w1");
    web1.serveHttp(HTTP);
    LocalCluster.waitFor(() -> "hello#1@w1".equals(
        client.run(10, "curl", "-s", "--max-time", "3", "http://" + instanceName + ":" + HTTP + "/").output().trim()),
        "hello#1 answering from w1");
    long ms = (System.nanoTime() - t0) / 1_000_000;
    System.out.println("migration: InstanceIP " + before + " reachable at its new place after " + ms + " ms");
    assertEquals(before, Addresses.format(web1.record().instanceIpv4().address()));
    assertEquals("hello#1@w1", curl(client, "http://" + before + ":" + HTTP + "/"));
  }

  @Test
  @Order(9)
  void stoppedClusterManagerLeavesCachedRoutesWorking() {
    cluster.controlPlane().cluster(LocalCluster.CLUSTER).close();
    assertEquals("hello#1@w1", curl(client, "http://" + SemanticName.ofInstance(web, 1) + ":" + HTTP + "/"));
    LocalCluster.waitFor(() -> !cluster.worker("w3").resolver().isOnline(), "w3 noticing the manager is gone");
    long t0 = System.nanoTime();
    Shell.Result unknown = client.run(20, "getent", "hosts", "nope.tum.nothing.prod.any.rr.local");
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertNotEquals(0, unknown.exitCode(), unknown.output());
    assertTrue(ms < 10_000, "an unknown name fails cleanly, not by hanging: " + ms + " ms");
    assertEquals("hello#1@w1", curl(client, "http://" + SemanticName.ofInstance(web, 1) + ":" + HTTP + "/"));
  }
}
