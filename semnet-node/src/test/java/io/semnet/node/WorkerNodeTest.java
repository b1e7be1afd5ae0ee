package io.semnet.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.control.InProcessControlPlane;
import io.semnet.control.ServiceDescriptor;
import io.semnet.core.address.Addresses;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.proxy.tun.NetworkNamespace;
import io.semnet.testing.Privileged;
import io.semnet.testing.TestNetwork;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A worker built in a fresh network namespace: its bridge, TUN device (MTU from the tunnel's
 * overhead), routes and sysctls appear on start and are all gone after close and after a start that
 * failed midway; instances are attached by namespace name and by PID and detached again; a stateful
 * migration keeps the instance's namespace address across two nodes.
 */
@Privileged
class WorkerNodeTest {
  private final AddressPlan plan = AddressPlan.defaults();
  private TestNetwork net;
  private InProcessControlPlane cp;

  @BeforeEach
  void setUp() {
    net = new TestNetwork();
    cp = InProcessControlPlane.builder().clusters("c1").plan(plan).build();
  }

  @AfterEach
  void tearDown() {
    cp.close();
    net.close();
  }

  @Test
  void readmeWorkerRunsInAFreshNamespaceAndLeavesNothingBehind() throws Exception {
    String nodeNs = net.namespace("node");
    String instNs = net.namespace("inst");
    WorkerNode node = (WorkerNode) Class.forName("ReadmeWorker")
        .getMethod("run", InProcessControlPlane.class, AddressPlan.class, String.class, String.class)
        .invoke(null, cp, plan, nodeNs, instNs);
    try {
      assertTrue(node.isRunning());
      assertEquals(1500 - node.tunnel().overheadBytes(false), node.tunMtu());
      assertTrue(net.exec(nodeNs, "ip", "-o", "link", "show", "sn0").contains("mtu " + node.tunMtu()));
      String bridgeAddrs = net.exec(nodeNs, "ip", "-o", "addr", "show", "dev", "snbr");
      assertTrue(bridgeAddrs.contains(Addresses.format(node.gatewayIpv4()) + "/" + node.registration().subnetV4().length()), bridgeAddrs);
      assertTrue(bridgeAddrs.contains(Addresses.format(node.gatewayIpv6()) + "/"), bridgeAddrs);
      String routes = routes(nodeNs);
      for (String r : node.tunRoutes()) {
        assertTrue(routes.contains(r + " dev sn0"), r + " not routed into the TUN:\n" + routes);
      }
      assertEquals("1", net.exec(nodeNs, "sysctl", "-n", "net.ipv4.ip_forward").trim());

      // the instance got the first host address of the node's subnet, a default route via the bridge, and is served
      String a4 = Addresses.format(node.registration().subnetV4().addressAt(2));
      assertTrue(net.exec(instNs, "ip", "-o", "addr", "show", "dev", "eth0").contains(a4 + "/"));
      assertTrue(net.exec(instNs, "ip", "route").contains("default via " + Addresses.format(node.gatewayIpv4())));
      assertEquals(1, node.localInstances().all().size());
      InstanceRecord placed = node.localInstances().all().iterator().next();
      assertEquals(a4, Addresses.format(placed.locator().namespaceIpv4()));
      assertEquals(placed, cp.orchestration().record(placed.service()).instance(0));
      assertEquals(0, net.tryExec(instNs, 5, "ping", "-c", "1", "-W", "2", Addresses.format(node.gatewayIpv4())).exitCode,
          "the instance reaches its gateway");
    } finally {
      node.close();
    }
    assertNothingLeft(nodeNs);
    assertTrue(net.tryExec(instNs, 5, "ip", "link", "show", "eth0").exitCode != 0, "the instance's veth end is gone");
    node.close(); // idempotent
  }

  @Test
  void attachesByPidAndByNameAndDetaches() throws Exception {
    String nodeNs = net.namespace("node");
    String named = net.namespace("named");
    ServiceId svc = ServiceId.of("web", "tum", "hello", "prod");
    cp.orchestration().deploy(ServiceDescriptor.builder(svc).instances(2).build());
    try (WorkerNode node = node("w1", nodeNs, "10.99.0.1").start()) {
      Process container = net.start(null, "unshare", "--net", "sleep", "300"); // a container: its own anonymous namespace
      awaitOwnNamespace(container.pid());
      Attachment byPid = node.attach(InstanceTarget.pid(container.pid()),
          loc -> cp.orchestration().placeInstance(svc, 0, loc).instance(0));
      Attachment byName = node.attach(InstanceTarget.netns(named).withInterfaceName("sn-eth"),
          loc -> cp.orchestration().placeInstance(svc, 1, loc).instance(1));
      assertNotEquals(byPid.ipv4(), byName.ipv4());
      assertTrue(nsenter(container.pid(), "ip", "-o", "addr", "show", "dev", "eth0").contains(Addresses.format(byPid.ipv4()) + "/"));
      assertTrue(net.exec(named, "ip", "-o", "addr", "show", "dev", "sn-eth").contains(Addresses.format(byName.ipv4()) + "/"));
      assertTrue(Files.exists(Path.of("/var/run/netns", byPid.namespace())), "the PID's namespace is named while attached");
      assertEquals(2, node.localInstances().all().size());

      node.detach(byPid);
      assertEquals(1, node.localInstances().all().size());
      assertFalse(Files.exists(Path.of("/var/run/netns", byPid.namespace())), "the name given to the PID's namespace is removed");
      assertTrue(nsenter(container.pid(), "ip", "-o", "link").lines().noneMatch(l -> l.contains("eth0")), "the container's veth end is gone");
      assertTrue(net.tryExec(nodeNs, 5, "ip", "link", "show", byPid.hostVeth()).exitCode != 0);
      assertTrue(container.isAlive(), "the container lives on");

      // a refused placement undoes the wiring
      assertThrows(IllegalStateException.class, () -> node.attach(InstanceTarget.pid(container.pid()), loc -> {
        throw new IllegalStateException("refused");
      }));
      assertTrue(nsenter(container.pid(), "ip", "-o", "link").lines().noneMatch(l -> l.contains("eth0")));
      assertThrows(IllegalArgumentException.class, () -> node.attach(InstanceTarget.netns(net.tag() + "-nosuch"), loc -> null));
    }
    assertNothingLeft(nodeNs);
    assertTrue(net.tryExec(named, 5, "ip", "link", "show", "sn-eth").exitCode != 0, "close removes the remaining veth");
  }

  @Test
  void aStartFailingMidwayLeavesNoDeviceRouteOrSysctl() throws Exception {
    String nodeNs = net.namespace("node");
    WorkerNode node = node("w1", nodeNs, "10.99.0.1");
    // the tunnel's port is taken inside the namespace: the tunnel fails after bridge, TUN and routes exist
    try (DatagramSocket taken = NetworkNamespace.run(nodeNs, () -> new DatagramSocket(new InetSocketAddress("0.0.0.0", 51820)))) {
      Exception e = assertThrows(Exception.class, node::start);
      assertNotNull(e.getMessage());
    }
    assertFalse(node.isRunning());
    assertNothingLeft(nodeNs);
    assertThrows(IllegalStateException.class, node::start, "a node starts at most once");
    node.close();
  }

  @Test
  void statefulMigrationKeepsTheNamespaceAddress() throws Exception {
    String ns1 = net.namespace("n1");
    String ns2 = net.namespace("n2");
    String inst = net.namespace("inst");
    ServiceId svc = ServiceId.of("web", "tum", "hello", "prod");
    cp.orchestration().deploy(ServiceDescriptor.builder(svc).instances(1).build());
    try (WorkerNode from = node("w1", ns1, "10.99.0.1").start(); WorkerNode to = node("w2", ns2, "10.99.0.2").start()) {
      Attachment a = from.attach(InstanceTarget.netns(inst), loc -> cp.orchestration().placeInstance(svc, 0, loc).instance(0));
      String ip = Addresses.format(a.ipv4());

      from.freeze(a, to.endpoint(), true);
      assertNotNull(from.translator().holdStats(a.record().key()), "the source holds the instance's packets");
      assertTrue(from.localInstances().all().isEmpty());
      assertTrue(net.tryExec(inst, 5, "ip", "link", "show", "eth0").exitCode != 0, "the source's veth is gone");

      Attachment restored = to.restore(InstanceTarget.netns(inst), a.record());
      assertTrue(restored.keptAddresses());
      assertEquals(a.ipv4(), restored.ipv4());
      assertTrue(net.exec(inst, "ip", "-o", "addr", "show", "dev", "eth0").contains(ip + "/32"));
      assertTrue(net.exec(inst, "ip", "route").contains("default via " + Addresses.format(to.gatewayIpv4())));
      assertTrue(routes(ns2).contains(ip + " dev snbr"), "the destination routes the kept address to its bridge");
      assertEquals("w2", to.localInstances().get(a.record().key()).locator().worker().nodeId(), "served before the root knows");
      assertEquals("w1", cp.orchestration().record(svc).instance(0).locator().worker().nodeId());

      Attachment published = to.publish(restored, loc -> cp.orchestration().migrate(svc, 0, loc).instance(0));
      assertEquals("w2", cp.orchestration().record(svc).instance(0).locator().worker().nodeId());
      assertEquals(published.record(), to.localInstances().get(a.record().key()));
      assertEquals(a.record().instanceIpv4(), published.record().instanceIpv4(), "the InstanceIP survives");

      to.detach(published);
      assertFalse(routes(ns2).contains(ip + " dev snbr"), "detach removes the host route");
    }
    assertNothingLeft(ns1);
    assertNothingLeft(ns2);
  }

  private WorkerNode node(String id, String ns, String underlayIp) {
    return TestNodes.builder(cp, plan, id, ns, underlayIp).build();
  }

  private void assertNothingLeft(String ns) {
    String links = net.exec(ns, "ip", "-o", "link");
    assertFalse(links.contains("snbr"), "bridge or veths left:\n" + links);
    assertFalse(links.contains("sn0"), "TUN left:\n" + links);
    String routes = routes(ns);
    for (String r : new String[] {plan.ipv4().virtualRange().toString(), plan.ipv4().platformRange().toString(),
        plan.ipv6().virtualRange().toString(), plan.ipv6().platformRange().toString()}) {
      assertFalse(routes.contains(r), r + " still routed:\n" + routes);
    }
    assertEquals("0", net.exec(ns, "sysctl", "-n", "net.ipv4.ip_forward").trim(), "forwarding restored");
    assertEquals("0", net.exec(ns, "sysctl", "-n", "net.ipv6.conf.all.forwarding").trim(), "IPv6 forwarding restored");
  }

  private String routes(String ns) {
    return TestNodes.routes(net, ns);
  }

  private String nsenter(long pid, String... cmd) {
    String[] full = new String[cmd.length + 4];
    full[0] = "nsenter";
    full[1] = "-t";
    full[2] = Long.toString(pid);
    full[3] = "-n";
    System.arraycopy(cmd, 0, full, 4, cmd.length);
    return net.exec(null, full);
  }

  /** Waits until unshare has moved the process into its own namespace. */
  private static void awaitOwnNamespace(long pid) throws Exception {
    String host = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
    for (int i = 0; i < 100; i++) {
      try {
        if (!Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/net")).toString().equals(host)) {
          return;
        }
      } catch (java.io.IOException e) {
        // not yet there
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException("process " + pid + " never left the host's namespace");
  }
}
