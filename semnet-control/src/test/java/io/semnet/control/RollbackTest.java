package io.semnet.control;

import static io.semnet.control.ControlPlaneBehaviourTest.await;
import static io.semnet.control.ControlPlaneBehaviourTest.endpoint;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.Addresses;
import io.semnet.core.address.ServiceIp;
import io.semnet.core.isolation.Grant;
import io.semnet.core.isolation.IsolationRules;
import io.semnet.core.isolation.ServiceSelector;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.record.InstanceMetadata;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.Resolution;
import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RootAuthority;
import io.semnet.resolver.WorkerResolver;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.HeartbeatPush;
import io.semnet.resolver.protocol.Hello;
import io.semnet.resolver.protocol.HelloReply;
import io.semnet.resolver.protocol.Query;
import io.semnet.resolver.protocol.QueryReply;
import io.semnet.resolver.protocol.RecordPush;
import io.semnet.resolver.protocol.RemovalPush;
import io.semnet.resolver.protocol.Renew;
import io.semnet.resolver.protocol.RenewReply;
import io.semnet.resolver.protocol.RulesPush;
import io.semnet.resolver.protocol.SignedHeartbeat;
import io.semnet.resolver.protocol.SignedRecord;
import io.semnet.resolver.protocol.SignedRemoval;
import io.semnet.resolver.protocol.SignedRules;
import io.semnet.resolver.transport.InProcessTransport;
import io.semnet.resolver.transport.ServerBinding;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rollback attacks of issue 15, each performed against a worker: a party that can publish on
 * the control channel (a broker, a compromised cluster manager: here a fake manager on the
 * in-process transport) holds only messages the root once signed, old ones included, and tries to
 * move the worker back to an older record or older isolation rules. The last test runs the real
 * root and cluster to show the heartbeat travelling root -> cluster -> worker.
 */
class RollbackTest {
  private static final ServiceId S = ServiceId.of("app", "a", "api", "prod");
  private static final InetAddress SIP = Addresses.parseLiteral("172.30.1.1");

  @TempDir
  Path dir;

  private final TestTime time = new TestTime();
  private final RootAuthority root = RootAuthority.generate();
  private final RootAuthority mallory = RootAuthority.generate();
  private InProcessTransport transport;
  private FakeManager fake;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  /** A manager that answers with whatever old signed material the attacker chose. */
  private final class FakeManager {
    volatile SignedRecord answer;
    volatile SignedRules rules = SignedRules.sign(1, IsolationRules.DEFAULT, root);
    volatile SignedHeartbeat heartbeat;
    final ServerBinding binding;

    FakeManager() {
      binding = transport.bind("c1", (client, m) -> CompletableFuture.completedFuture(answer(m)));
    }

    ControlMessage answer(ControlMessage m) {
      if (m instanceof Hello) {
        return new HelloReply(rules, heartbeat);
      }
      if (m instanceof Query) {
        return answer == null ? QueryReply.notFound("none") : QueryReply.found(answer);
      }
      if (m instanceof Renew) {
        return new RenewReply(List.of(), List.of());
      }
      return new io.semnet.resolver.protocol.Ack();
    }

    void push(String client, ControlMessage m) {
      assertTrue(binding.push(client, m), "pushed " + m);
    }
  }

  @BeforeEach
  void setUp() {
    transport = InProcessTransport.builder().threads(2).build();
    fake = new FakeManager();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    fake.binding.close();
    transport.close();
  }

  private WorkerResolver worker(String id, Path state) {
    WorkerResolver.Builder b = WorkerResolver.builder().nodeId(id).manager("c1").transport(transport)
        .rootTrust(root.trust()).ticker(time).clock(time).maintenanceInterval(Duration.ZERO)
        .cacheExpiry(Duration.ofSeconds(120)).negativeTtl(Duration.ofSeconds(5));
    if (state != null) {
      b.stateDirectory(state);
    }
    WorkerResolver w = b.build().start();
    closeables.add(w);
    await(w::isOnline, id + " online");
    return w;
  }

  private static SignedRecord v(long version, String node, RootAuthority by) {
    InstanceRecord i = InstanceRecord.of(S, 0, Addresses.parseLiteral("172.30.9.9"), null,
        Locator.of(Addresses.parseLiteral("172.16.0.2"), null, endpoint(node), version), InstanceMetadata.NONE);
    return SignedRecord.sign(ServiceRecord.of(S, version, List.of(ServiceIp.of(S, "first", SIP)), List.of(i)), by);
  }

  private SignedHeartbeat heartbeat(long epoch, long issuedAt, long validMs, long rulesVersion, Map<ServiceId, Long> v) {
    return SignedHeartbeat.sign(epoch, issuedAt, issuedAt + validMs, rulesVersion, v, root);
  }

  private static Resolution get(java.util.concurrent.CompletionStage<Resolution> s) throws Exception {
    return s.toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static String nodeOf(WorkerResolver w) {
    return w.cached(SIP).record().instance(0).locator().worker().nodeId();
  }

  /** The worker holds v9 (on node "new"); the attacker also holds the root-signed v5 (on node "old"). */
  private WorkerResolver holdingV9(Path state) throws Exception {
    WorkerResolver w = worker("w1", state);
    fake.answer = v(9, "new", root);
    assertEquals(9, get(w.resolve(SIP)).route().record().version());
    return w;
  }

  @Test
  void unsignedOrForgedWithdrawalsAreRefusedAndCounted() throws Exception {
    WorkerResolver w = holdingV9(null);
    fake.push("w1", new RemovalPush(SignedRemoval.withdrawn(S, 10)));
    fake.push("w1", new RemovalPush(SignedRemoval.sign(S, 11, mallory)));
    await(() -> w.stats().withdrawalsRefused() == 1 && w.stats().rejected() == 1, "both refused and counted: " + w.stats());
    assertNotNull(w.cached(SIP), "the route stays");
    assertEquals("new", nodeOf(w));
    // The older record the attacker then offers is no better than before.
    fake.push("w1", new RecordPush(v(5, "old", root)));
    await(() -> w.stats().staleIgnored() + w.stats().rollbacksRefused() == 1, "v5 refused");
    assertEquals("new", nodeOf(w));
  }

  @Test
  void aRemovalOrAForgottenRouteDoesNotReopenTheDoorForAnOlderRecord() throws Exception {
    WorkerResolver w = holdingV9(null);
    // A real, root-signed removal: the service is gone as of version 10.
    fake.push("w1", new RemovalPush(SignedRemoval.sign(S, 10, root)));
    await(() -> w.cached(SIP) == null, "route removed");
    assertEquals(11, w.versionFloor(S), "the floor survives the removal");
    // The attacker answers the next query with the old v5: refused, counted, no route.
    fake.answer = v(5, "old", root);
    Resolution r = get(w.resolve(SIP));
    assertEquals(Resolution.Status.UNAVAILABLE, r.status(), r.toString());
    assertNull(w.cached(SIP));
    assertEquals(1, w.stats().rollbacksRefused());
    // A pushed replay of the removed version itself is refused as well.
    fake.answer = v(10, "old", root);
    assertEquals(Resolution.Status.UNAVAILABLE, get(w.resolve(SIP)).status());
    assertEquals(2, w.stats().rollbacksRefused());

    // A route forgotten because it went unused keeps its floor too.
    WorkerResolver w2 = worker("w2", null);
    fake.answer = v(12, "new", root);
    assertEquals(12, get(w2.resolve(SIP)).route().record().version());
    time.advance(Duration.ofSeconds(121));
    w2.runMaintenance();
    assertNull(w2.cached(SIP), "forgotten after the cache expiry");
    fake.answer = v(9, "old", root);
    assertEquals(Resolution.Status.UNAVAILABLE, get(w2.resolve(SIP)).status());
    assertEquals(1, w2.stats().rollbacksRefused());
  }

  @Test
  void aRestartedWorkerKeepsItsFloorsAndRefusesAnOlderRecord() throws Exception {
    Path state = dir.resolve("node-w1");
    WorkerResolver w = holdingV9(state);
    Grant g = Grant.of(ServiceSelector.appNamespace("a"), ServiceSelector.appNamespace("b"));
    fake.rules = SignedRules.sign(4, IsolationRules.DEFAULT.withGrant(g), root);
    fake.push("w1", new RulesPush(fake.rules));
    await(() -> w.isolationRules().grants().contains(g), "rules v4 applied");
    w.close();
    closeables.remove(w);
    Path file = state.resolve("resolver-state");
    assertTrue(Files.exists(file), "state written on close");
    assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(file));
    assertFalse(Files.exists(state.resolve("resolver-state.tmp")), "no temporary file left");

    fake.answer = v(5, "old", root);
    fake.rules = SignedRules.sign(2, IsolationRules.DEFAULT, root);
    WorkerResolver again = worker("w1", state);
    assertEquals(9, again.versionFloor(S));
    Resolution r = get(again.resolve(SIP));
    assertEquals(Resolution.Status.UNAVAILABLE, r.status(), "the restarted worker refuses v5: " + r);
    assertNull(again.cached(SIP));
    // its hello got rules v2, older than the v4 it had applied before the restart
    assertEquals(2, again.stats().rollbacksRefused(), again.stats().toString());
    fake.answer = v(9, "new", root);
    assertEquals("new", get(again.resolve(SIP)).route().record().instance(0).locator().worker().nodeId());
  }

  /**
   * The revocation list: a replay of the list before a node was revoked is refused and counted
   * (also after a restart, from the persisted floor), and so is a list not signed by the root; the
   * listener (the node's tunnel) only ever sees the newest verified list.
   */
  @Test
  void revocationListsOlderThanTheAppliedOneOrForgedAreRefused() throws Exception {
    io.semnet.core.trust.RevokedCertificate a = io.semnet.core.trust.RevokedCertificate.of(7, "a", new byte[32],
        java.time.Instant.now().plusSeconds(3600));
    io.semnet.resolver.protocol.SignedRevocations before = io.semnet.resolver.protocol.SignedRevocations.sign(3, List.of(), root);
    io.semnet.resolver.protocol.SignedRevocations after = io.semnet.resolver.protocol.SignedRevocations.sign(4, List.of(a), root);
    Path state = dir.resolve("node-w1");
    WorkerResolver w = worker("w1", state);
    List<List<io.semnet.core.trust.RevokedCertificate>> told = new java.util.concurrent.CopyOnWriteArrayList<>();
    w.onRevocations(told::add);
    fake.push("w1", new io.semnet.resolver.protocol.RevocationsPush(after));
    await(() -> w.revokedCertificates().equals(List.of(a)), "list v4 applied");
    fake.push("w1", new io.semnet.resolver.protocol.RevocationsPush(before)); // replay: would lift the revocation
    await(() -> w.stats().rollbacksRefused() == 1, "the replay refused and counted");
    fake.push("w1", new io.semnet.resolver.protocol.RevocationsPush(io.semnet.resolver.protocol.SignedRevocations.sign(9, List.of(), mallory)));
    await(() -> w.stats().rejected() == 1, "a list not signed by the root rejected");
    assertEquals(List.of(a), w.revokedCertificates());
    assertEquals(List.of(List.of(), List.of(a)), told, "the listener saw the empty start and v4, nothing else");

    w.close();
    closeables.remove(w);
    WorkerResolver again = worker("w1", state);
    fake.push("w1", new io.semnet.resolver.protocol.RevocationsPush(before));
    await(() -> again.stats().rollbacksRefused() == 1, "the replay refused after a restart (persisted floor)");
    fake.push("w1", new io.semnet.resolver.protocol.RevocationsPush(after));
    await(() -> again.revokedCertificates().equals(List.of(a)), "the current list (as the manager sends after a hello) applies");
  }

  @Test
  void isolationRulesOlderThanTheAppliedOnesAreRefused() throws Exception {
    Grant g = Grant.of(ServiceSelector.appNamespace("a"), ServiceSelector.appNamespace("b"));
    SignedRules withGrant = SignedRules.sign(3, IsolationRules.DEFAULT.withGrant(g), root);
    SignedRules revoked = SignedRules.sign(4, IsolationRules.DEFAULT, root);
    Path state = dir.resolve("node-w1");
    fake.rules = withGrant;
    WorkerResolver w = worker("w1", state);
    await(() -> w.isolationRules().grants().contains(g), "rules v3 applied");
    fake.push("w1", new RulesPush(revoked));
    await(() -> w.isolationRules().grants().isEmpty(), "revocation applied");
    fake.push("w1", new RulesPush(withGrant)); // replay of the rules before the revocation
    await(() -> w.stats().rollbacksRefused() == 1, "the replay refused and counted");
    assertTrue(w.isolationRules().grants().isEmpty(), "the revoked grant stays revoked");

    // Restarted, and greeted with the old rules: still refused.
    w.close();
    closeables.remove(w);
    WorkerResolver again = worker("w1", state);
    await(() -> again.stats().rollbacksRefused() == 1, "the old rules in the hello reply refused");
    assertTrue(again.isolationRules().grants().isEmpty());

    // A fresh worker without state learns the floor from the heartbeat in the same hello reply.
    fake.heartbeat = heartbeat(1, time.millis(), 60_000, 4, Map.of());
    WorkerResolver fresh = worker("w3", null);
    await(() -> fresh.stats().rollbacksRefused() == 1, "old rules refused by a fresh worker: " + fresh.stats());
    assertTrue(fresh.isolationRules().grants().isEmpty());
  }

  @Test
  void staleOrExpiredHeartbeatsAreRefusedAndAFreshWorkerLearnsItsFloors() throws Exception {
    long now = time.millis();
    fake.heartbeat = heartbeat(2, now, 60_000, 1, Map.of(S, 9L));
    fake.answer = v(5, "old", root);
    WorkerResolver w = worker("w1", null);
    await(() -> w.rootEpoch() == 2, "the hello reply's heartbeat taken");
    assertEquals(9, w.versionFloor(S), "a fresh worker learns the floor from its hello reply");
    assertEquals(Resolution.Status.UNAVAILABLE, get(w.resolve(SIP)).status(), "and refuses the replayed v5");
    assertEquals(1, w.stats().rollbacksRefused());

    ServiceId other = ServiceId.of("app", "a", "other", "prod");
    fake.push("w1", new HeartbeatPush(heartbeat(2, now - 1_000, 60_000, 1, Map.of(other, 50L)))); // older
    fake.push("w1", new HeartbeatPush(heartbeat(1, now + 1_000, 60_000, 1, Map.of(other, 50L)))); // older epoch
    time.advance(Duration.ofMinutes(2));
    fake.push("w1", new HeartbeatPush(heartbeat(2, now + 2_000, 60_000, 1, Map.of(other, 50L)))); // expired
    fake.push("w1", new HeartbeatPush(SignedHeartbeat.sign(3, time.millis(), time.millis() + 60_000, 1,
        Map.of(other, 50L), mallory))); // forged
    await(() -> w.stats().staleHeartbeats() == 3 && w.stats().rejected() == 1, "all refused: " + w.stats());
    assertEquals(0, w.versionFloor(other), "nothing of them applied");
    assertEquals(2, w.rootEpoch());
    fake.push("w1", new HeartbeatPush(heartbeat(3, time.millis(), 60_000, 1, Map.of(other, 50L))));
    await(() -> w.rootEpoch() == 3, "a newer epoch is taken");
    assertEquals(50, w.versionFloor(other));
    assertEquals(9, w.versionFloor(S), "floors never go down, whatever a newer heartbeat omits");
  }

  @Test
  void aWorkerCutOffFromTheControlPlaneKeepsItsRoutesPastExpiry() throws Exception {
    fake.heartbeat = heartbeat(1, time.millis(), 10_000, 1, Map.of(S, 9L));
    WorkerResolver w = holdingV9(null);
    transport.setReachable("c1", false);
    time.advance(Duration.ofMinutes(1)); // the heartbeat expired long ago
    for (int i = 0; i < 3; i++) {
      w.runMaintenance();
    }
    assertFalse(w.isOnline());
    assertNotNull(w.cached(SIP), "the route stays past the heartbeat's expiry");
    assertEquals("new", nodeOf(w));
    assertEquals(9, w.versionFloor(S));
  }

  @Test
  void theRootsHeartbeatReachesWorkersThroughTheCluster() throws Exception {
    fake.binding.close();
    ServiceManager rootManager = ServiceManager.root().id("root").transport(transport).authority(root)
        .plan(AddressPlan.builder().ipv6(null).build()).policyRegistry(TestPolicies.registry())
        .platformPolicies(Set.of("first")).store(io.semnet.control.store.RootStore.inMemory()).clock(time)
        .maintenanceInterval(Duration.ZERO).rootEpoch(7).build();
    closeables.add(rootManager);
    ServiceManager cluster = ServiceManager.cluster().id("c1").upstream("root").transport(transport)
        .rootTrust(root.trust()).policyRegistry(TestPolicies.registry()).clock(time)
        .maintenanceInterval(Duration.ZERO).requestTimeout(Duration.ofSeconds(1)).build();
    closeables.add(cluster);
    await(cluster::isUpstreamOnline, "cluster greeted the root");
    rootManager.orchestration().registerNode("c1", endpoint("w1"), null);
    ServiceRecord deployed = rootManager.orchestration().deploy(ServiceDescriptor.builder(S).instances(1).build());
    WorkerResolver w = worker("w1", null);
    long before = w.versionFloor(S);
    SignedHeartbeat h = rootManager.publishHeartbeat();
    assertEquals(7, h.epoch());
    await(() -> w.versionFloor(S) == deployed.version(), "the heartbeat reached the worker through c1 (floor was " + before + ")");
    assertEquals(7, w.rootEpoch());
    assertEquals(h, cluster.heartbeat(), "the cluster forwards the root's heartbeat unchanged");
    rootManager.orchestration().remove(S);
    rootManager.publishHeartbeat();
    await(() -> w.versionFloor(S) > deployed.version(), "a removal's version is vouched for as well");
  }
}
