package io.semnet.control;

import io.semnet.resolver.WorkerResolver;
import io.semnet.resolver.NodeRegistration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.Addresses;
import io.semnet.core.address.IpPrefix;
import io.semnet.core.address.ServiceIp;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.isolation.Grant;
import io.semnet.core.isolation.ServiceSelector;
import io.semnet.core.plan.InstanceAddressRule;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.Resolution;
import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RootAuthority;
import io.semnet.control.store.RootStore;
import io.semnet.resolver.transport.InProcessTransport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The root's orchestration API: allocation rules, clear errors that change nothing, persistence across restarts. */
class OrchestrationTest {
  @TempDir Path dir;
  private final TestTime time = new TestTime();
  private final RootAuthority authority = RootAuthority.generate();
  private InProcessTransport transport;
  private ServiceManager root;

  @BeforeEach
  void setUp() {
    transport = InProcessTransport.create();
  }

  @AfterEach
  void tearDown() {
    if (root != null) {
      root.close();
    }
    transport.close();
  }

  private ServiceManager root(RootStore store) {
    return ServiceManager.root().id("root").transport(transport).authority(authority).plan(ControlPlaneBehaviourTest.PLAN)
        .policyRegistry(TestPolicies.registry()).platformPolicies(Set.of("first", "near")).store(store).clock(time)
        .maintenanceInterval(Duration.ZERO).build();
  }

  private static ServiceId sid(String s) {
    return ServiceId.of("app", "a", s, "prod");
  }

  private static InetAddress a(String s) {
    return Addresses.parseLiteral(s);
  }

  private static Locator at(NodeRegistration n, int host) {
    return Locator.of(n.subnetV4().addressAt(host), null, n.endpoint(), 0);
  }

  @Test
  void deployAllocatesOneServiceIpPerPolicyHonouringPinsAndRules() {
    root = root(RootStore.inMemory());
    Orchestration o = root.orchestration();
    ServiceRecord r = o.deploy(ServiceDescriptor.builder(sid("api")).instances(3).pin("near", a("172.30.5.5"))
        .instanceRule(InstanceAddressRule.of(0, 1, a("172.30.7.0"), null)).build());
    assertEquals(2, r.serviceIps().size());
    assertEquals(a("172.30.5.5"), r.serviceIp("near", true).address());
    assertNotNull(r.serviceIp("first", true));
    assertEquals(a("172.30.7.0"), r.instance(0).instanceIpv4().address());
    assertEquals(a("172.30.7.1"), r.instance(1).instanceIpv4().address());
    assertNotNull(r.instance(2).instanceIpv4());
    assertNull(r.instance(0).locator(), "unplaced until reported");
    Set<InetAddress> all = new HashSet<>();
    r.serviceIps().forEach(ip -> all.add(ip.address()));
    r.instances().forEach(i -> all.add(i.instanceIpv4().address()));
    assertEquals(5, all.size(), "no address handed out twice");
  }

  @Test
  void invalidOrConflictingRequestsFailClearlyAndChangeNothing() {
    root = root(RootStore.inMemory());
    Orchestration o = root.orchestration();
    NodeRegistration n1 = o.registerNode("c1", ControlPlaneBehaviourTest.endpoint("n1"), GeoPoint.of(1, 1));
    NodeRegistration n2 = o.registerNode("c1", ControlPlaneBehaviourTest.endpoint("n2"), null);
    ServiceRecord api = o.deploy(ServiceDescriptor.builder(sid("api")).instances(2).pin("first", a("172.30.5.5")).build());
    o.placeInstance(sid("api"), 0, at(n1, 2));
    ServiceRecord before = o.record(sid("api"));

    assertError("already deployed", () -> o.deploy(ServiceDescriptor.builder(sid("api")).build()));
    assertError("already allocated", () -> o.deploy(ServiceDescriptor.builder(sid("b")).pin("near", a("172.30.5.5")).build()));
    assertNull(o.record(sid("b")));
    assertError("does not offer", () -> o.deploy(ServiceDescriptor.builder(sid("c")).pin("rr", a("172.30.6.6")).build()));
    assertError("outside", () -> o.deploy(ServiceDescriptor.builder(sid("d")).pin("near", a("10.1.1.1")).build()));
    ServiceId e = sid("e");
    InetAddress taken = api.instance(1).instanceIpv4().address();
    assertError("already allocated", () -> o.deploy(ServiceDescriptor.builder(e).instances(1)
        .instanceRule(InstanceAddressRule.of(0, 0, taken, null)).build()));
    assertNull(o.record(e));
    assertFalse(o.record(sid("api")).serviceIps().stream().anyMatch(ip -> ip.service().equals(e)));

    assertError("not registered", () -> o.placeInstance(sid("api"), 1, Locator.of(a("172.16.9.2"), null,
        ControlPlaneBehaviourTest.endpoint("ghost"), 0)));
    WorkerEndpoint otherKey = WorkerEndpoint.of("n1", n1.endpoint().address(), "another-key-000000000000000000000".getBytes(StandardCharsets.UTF_8));
    assertError("differs from the registration", () -> o.placeInstance(sid("api"), 1, Locator.of(n1.subnetV4().addressAt(3), null, otherKey, 0)));
    assertError("outside the subnet", () -> o.placeInstance(sid("api"), 1, Locator.of(n2.subnetV4().addressAt(3), null, n1.endpoint(), 0)));
    assertError("already used by", () -> o.placeInstance(sid("api"), 1, at(n1, 2)));
    assertError("already placed", () -> o.placeInstance(sid("api"), 0, at(n2, 2)));
    assertError("not placed yet", () -> o.migrate(sid("api"), 1, at(n2, 2)));
    assertError("has no instance 9", () -> o.placeInstance(sid("api"), 9, at(n2, 2)));
    assertError("already at", () -> o.migrate(sid("api"), 0, before.instance(0).locator()));
    assertError("cannot scale", () -> o.scale(sid("api"), -1));
    assertError("not deployed", () -> o.remove(sid("nothing")));
    assertError("not deployed", () -> o.scale(sid("nothing"), 1));
    assertError("no such grant", () -> o.revoke(Grant.of(ServiceSelector.appNamespace("a"), ServiceSelector.appNamespace("b"))));
    assertError("already registered", () -> o.registerNode("c2", ControlPlaneBehaviourTest.endpoint("n1"), GeoPoint.of(1, 1)));
    assertError("still hosts", () -> o.deregisterNode("n1"));
    assertError("capacity", () -> o.updateCapacity(sid("api"), 0, -1));
    assertEquals(before, o.record(sid("api")), "nothing changed");
    assertEquals(n1, o.registerNode("c1", ControlPlaneBehaviourTest.endpoint("n1"), GeoPoint.of(1, 1)), "re-registration is idempotent");
  }

  @Test
  void aStatefulRestoreKeepsItsNamespaceIpOnAnotherNodeAndNobodyElseTakesIt() {
    root = root(RootStore.inMemory());
    Orchestration o = root.orchestration();
    NodeRegistration n1 = o.registerNode("c1", ControlPlaneBehaviourTest.endpoint("n1"), null);
    NodeRegistration n2 = o.registerNode("c1", ControlPlaneBehaviourTest.endpoint("n2"), null);
    NodeRegistration n3 = o.registerNode("c1", ControlPlaneBehaviourTest.endpoint("n3"), null);
    o.deploy(ServiceDescriptor.builder(sid("api")).instances(2).build());
    InetAddress kept = n1.subnetV4().addressAt(2);
    ServiceRecord placed = o.placeInstance(sid("api"), 0, at(n1, 2));

    ServiceRecord moved = o.migrate(sid("api"), 0, Locator.of(kept, null, n2.endpoint(), 0));
    Locator l = moved.instance(0).locator();
    assertEquals(kept, l.namespaceIpv4(), "the namespace IP from n1's subnet is kept on n2 (a host route there)");
    assertEquals("n2", l.worker().nodeId());
    assertTrue(l.isNewerThan(placed.instance(0).locator()));
    assertError("already used by", () -> o.placeInstance(sid("api"), 1, at(n1, 2)));
    assertError("outside the subnet", () -> o.placeInstance(sid("api"), 1, Locator.of(kept, null, n3.endpoint(), 0)));
    // it moves on keeping it, and may come home
    assertEquals(kept, o.migrate(sid("api"), 0, Locator.of(kept, null, n3.endpoint(), 0)).instance(0).locator().namespaceIpv4());
    assertEquals(kept, o.migrate(sid("api"), 0, at(n1, 2)).instance(0).locator().namespaceIpv4());
    // a foreign address that is not the instance's own is refused
    assertError("outside the subnet", () -> o.migrate(sid("api"), 0, Locator.of(n3.subnetV4().addressAt(5), null, n2.endpoint(), 0)));
  }

  private static void assertError(String fragment, Runnable r) {
    OrchestrationException e = assertThrows(OrchestrationException.class, r::run);
    assertTrue(e.getMessage().contains(fragment), "'" + e.getMessage() + "' should mention '" + fragment + "'");
  }

  @Test
  void nodesGetDistinctSubnetsFromTheirClusterPoolAndACertificate() {
    root = root(RootStore.inMemory());
    Orchestration o = root.orchestration();
    NodeRegistration a1 = o.registerNode("c1", ControlPlaneBehaviourTest.endpoint("a1"), null);
    NodeRegistration a2 = o.registerNode("c1", ControlPlaneBehaviourTest.endpoint("a2"), null);
    NodeRegistration b1 = o.registerNode("c2", ControlPlaneBehaviourTest.endpoint("b1"), null);
    assertNotEquals(a1.subnetV4(), a2.subnetV4());
    assertEquals(26, a1.subnetV4().length());
    IpPrefix poolA = IpPrefix.of(a1.subnetV4().network(), 20);
    assertTrue(poolA.contains(a2.subnetV4()), "same cluster, same pool");
    assertFalse(poolA.contains(b1.subnetV4()), "another cluster, another pool");
    assertFalse(IpPrefix.parse("172.30.0.0/16").overlaps(a1.subnetV4()), "never from the ServiceIP range");
    assertTrue(authority.trust().verify(a1.certificate(), time.instant()));
    assertTrue(a1.certificate().nodeId().equals("a1"));
    assertEquals(3, o.nodes().size());
  }

  @Test
  void scaleUpAndDownAllocatesAndQuarantines() {
    root = root(RootStore.inMemory());
    Orchestration o = root.orchestration();
    ServiceRecord r = o.deploy(ServiceDescriptor.builder(sid("api")).instances(2).build());
    ServiceRecord up = o.scale(sid("api"), 4);
    assertEquals(List.of(0, 1, 2, 3), up.instances().stream().map(InstanceRecord::ordinal).toList());
    assertTrue(up.version() > r.version());
    InetAddress gone = up.instance(3).instanceIpv4().address();
    ServiceRecord down = o.scale(sid("api"), 3);
    assertNull(down.instance(3));
    ServiceRecord other = o.deploy(ServiceDescriptor.builder(sid("other")).instances(50).build());
    assertTrue(other.instances().stream().noneMatch(i -> i.instanceIpv4().address().equals(gone)), "released address in quarantine");
  }

  @Test
  void deregistrationRevokesTheCertificateAndARestartKeepsTheListAndTheSerials() throws Exception {
    Path journal = dir.resolve("root.journal");
    root = root(RootStore.journal(journal));
    Orchestration o = root.orchestration();
    NodeRegistration n1 = o.registerNode("c1", ControlPlaneBehaviourTest.endpoint("n1"), null);
    NodeRegistration n2 = o.registerNode("c1", ControlPlaneBehaviourTest.endpoint("n2"), null);
    assertTrue(n2.certificate().serial() > n1.certificate().serial(), "serials are allocated in order");
    assertEquals(time.instant().getEpochSecond(), n2.certificate().notBefore().getEpochSecond());
    o.deregisterNode("n1");
    io.semnet.resolver.protocol.SignedRevocations list = root.revocations;
    assertEquals(List.of(io.semnet.core.trust.RevokedCertificate.of(n1.certificate())), list.revoked());
    assertTrue(list.verify(authority.trust()), "signed by the root");
    root.close();

    root = root(RootStore.journal(journal));
    assertEquals(list, root.revocations, "the same list, same version, after a restart");
    assertError("was revoked", () -> root.orchestration().registerNode("c1", ControlPlaneBehaviourTest.endpoint("n1"), null));
    NodeRegistration n3 = root.orchestration().registerNode("c1", ControlPlaneBehaviourTest.endpoint("n3"), null);
    assertTrue(n3.certificate().serial() > list.version(), "serials never repeat across restarts");
  }

  @Test
  void rootRestartKeepsEveryAllocationAndTheVersionCounter() throws Exception {
    Path journal = dir.resolve("root.journal");
    root = root(RootStore.journal(journal));
    Orchestration o = root.orchestration();
    NodeRegistration n1 = o.registerNode("c1", ControlPlaneBehaviourTest.endpoint("n1"), GeoPoint.of(1, 2));
    ServiceRecord api = o.deploy(ServiceDescriptor.builder(sid("api")).instances(3).build());
    o.placeInstance(sid("api"), 0, at(n1, 2));
    ServiceRecord doomed = o.deploy(ServiceDescriptor.builder(sid("doomed")).instances(2).build());
    o.remove(sid("doomed"));
    Grant g = Grant.of(ServiceSelector.appNamespace("a"), ServiceSelector.appNamespace("b"));
    o.grant(g);
    ServiceRecord last = o.scale(sid("api"), 2);
    long lastVersion = last.version();
    root.close();

    root = root(RootStore.journal(journal));
    Orchestration o2 = root.orchestration();
    assertEquals(last, o2.record(sid("api")), "records restored");
    assertEquals(n1, o2.node("n1"), "nodes restored");
    assertTrue(o2.isolationRules().grants().contains(g), "grants restored");
    assertNull(o2.record(sid("doomed")));
    Set<InetAddress> used = new HashSet<>();
    for (ServiceRecord r : List.of(api, doomed)) {
      r.serviceIps().forEach(ip -> used.add(ip.address()));
      r.instances().forEach(i -> used.add(i.instanceIpv4().address()));
    }
    ServiceRecord fresh = o2.deploy(ServiceDescriptor.builder(sid("fresh")).instances(20).build());
    for (ServiceIp ip : fresh.serviceIps()) {
      assertFalse(used.contains(ip.address()), "ServiceIP " + ip + " handed out twice");
    }
    for (InstanceRecord i : fresh.instances()) {
      assertFalse(used.contains(i.instanceIpv4().address()), "InstanceIP " + i + " handed out twice (incl. quarantined ones)");
    }
    assertTrue(fresh.version() > lastVersion, "versions keep growing across restarts");
    NodeRegistration n2 = o2.registerNode("c1", ControlPlaneBehaviourTest.endpoint("n2"), null);
    assertNotEquals(n1.subnetV4(), n2.subnetV4());
    assertError("already used by", () -> o2.placeInstance(sid("api"), 1, at(n1, 2)));

    // The restarted root serves the restored records.
    ServiceManager c1 = ServiceManager.cluster().id("c1").upstream("root").transport(transport).rootTrust(authority.trust())
        .policyRegistry(TestPolicies.registry()).clock(time).maintenanceInterval(Duration.ZERO).build();
    WorkerResolver w = WorkerResolver.builder().nodeId("n1").manager("c1").transport(transport).rootTrust(authority.trust())
        .maintenanceInterval(Duration.ZERO).build().start();
    try {
      ControlPlaneBehaviourTest.await(() -> c1.record(sid("api")) != null, "deployment interest after restart");
      Resolution res = w.resolve(last.serviceIp("first", true).address()).toCompletableFuture().get(5, TimeUnit.SECONDS);
      assertTrue(res.isFound(), res.toString());
      assertEquals(last.version(), res.route().record().version());
    } finally {
      w.close();
      c1.close();
    }
  }

  @Test
  void journalToleratesATornLastRecordAndRejectsCorruption() throws Exception {
    Path journal = dir.resolve("root.journal");
    root = root(RootStore.journal(journal));
    root.orchestration().deploy(ServiceDescriptor.builder(sid("api")).instances(1).build());
    root.close();
    // A record torn by a crash: its frame announces 256 payload bytes, of which only a few made it.
    byte[] torn = "\0\0\1\0\1\2\3\4{\"v\":1,\"type\":\"serv".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    Files.write(journal, torn, java.nio.file.StandardOpenOption.APPEND);
    root = root(RootStore.journal(journal));
    assertNotNull(root.orchestration().record(sid("api")));
    root.close();
    root = null;
    byte[] text = Files.readAllBytes(journal);
    byte[] garbage = "garbage\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    byte[] corrupt = java.util.Arrays.copyOf(garbage, garbage.length + text.length);
    System.arraycopy(text, 0, corrupt, garbage.length, text.length);
    Files.write(journal, corrupt);
    assertThrows(IllegalStateException.class, () -> RootStore.journal(journal));
  }

  @Test
  void quarantineSurvivesARestart() {
    Path journal = dir.resolve("root.journal");
    root = root(RootStore.journal(journal));
    ServiceRecord r = root.orchestration().deploy(ServiceDescriptor.builder(sid("api")).instances(1).pin("first", a("172.30.5.5")).build());
    root.orchestration().remove(sid("api"));
    root.close();
    root = root(RootStore.journal(journal));
    assertError("quarantine", () -> root.orchestration().deploy(ServiceDescriptor.builder(sid("again")).pin("first", a("172.30.5.5")).build()));
    time.advance(Duration.ofMinutes(16));
    assertEquals(a("172.30.5.5"), r.serviceIp("first", true).address());
    assertNotNull(root.orchestration().deploy(ServiceDescriptor.builder(sid("again")).pin("first", a("172.30.5.5")).build()),
        "reusable after the quarantine");
  }

  @Test
  void unplaceFreesTheNamespaceIpAndANodeCanThenBeDeregistered() {
    root = root(RootStore.inMemory());
    Orchestration o = root.orchestration();
    NodeRegistration n1 = o.registerNode("c1", ControlPlaneBehaviourTest.endpoint("n1"), null);
    o.deploy(ServiceDescriptor.builder(sid("api")).instances(2).build());
    ServiceRecord placed = o.placeInstances(sid("api"), java.util.Map.of(0, at(n1, 2), 1, at(n1, 3)));
    assertEquals("n1", placed.instance(1).locator().worker().nodeId());
    assertEquals(placed.instance(0).locator().version(), placed.version(), "one version for the batch");
    o.deploy(ServiceDescriptor.builder(sid("b")).instances(2).build());
    assertError("given to two instances", () -> o.placeInstances(sid("b"), java.util.Map.of(0, at(n1, 5), 1, at(n1, 5))));
    assertNull(o.record(sid("b")).instance(0).locator(), "nothing placed");
    o.remove(sid("b"));
    ServiceRecord un = o.unplaceInstance(sid("api"), 0);
    assertNull(un.instance(0).locator());
    assertTrue(un.version() > placed.version());
    o.unplaceInstance(sid("api"), 1);
    o.deregisterNode("n1");
    assertNull(o.node("n1"));
    // deregistering revoked the node's certificate: its key is not certified again
    assertError("was revoked", () -> o.registerNode("c1", ControlPlaneBehaviourTest.endpoint("n1"), null));
    WorkerEndpoint newKey = WorkerEndpoint.of("n1", ControlPlaneBehaviourTest.endpoint("n1").address(),
        java.util.Arrays.copyOf("another key".getBytes(java.nio.charset.StandardCharsets.UTF_8), 32));
    NodeRegistration again = o.registerNode("c1", newKey, null);
    assertNotEquals(n1.subnetV4(), again.subnetV4(), "the old subnet is in quarantine");
    assertTrue(again.certificate().serial() > n1.certificate().serial(), "serials only grow");
    assertError("not placed", () -> o.unplaceInstance(sid("api"), 0));
  }

  static WorkerEndpoint endpointWithoutKey(String node) {
    return WorkerEndpoint.of(node, new InetSocketAddress(a("192.0.2.1"), 1), new byte[0]);
  }

  @Test
  void nodesWithoutTunnelKeyGetNoCertificate() {
    root = root(RootStore.inMemory());
    assertNull(root.orchestration().registerNode("c1", endpointWithoutKey("plain"), null).certificate());
  }
}
