package io.semnet.control;

import io.semnet.resolver.NodeRegistration;
import io.semnet.resolver.WorkerResolver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.semnet.core.address.Addresses;
import io.semnet.core.address.ServiceIp;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.isolation.Grant;
import io.semnet.core.isolation.IsolationRules;
import io.semnet.core.isolation.ServiceSelector;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceMetadata;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.Resolution;
import io.semnet.core.route.Route;
import io.semnet.core.route.RouteListener;
import io.semnet.core.service.SemanticName;
import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RootAuthority;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.Drop;
import io.semnet.resolver.protocol.Hello;
import io.semnet.resolver.protocol.HelloReply;
import io.semnet.resolver.protocol.Query;
import io.semnet.resolver.protocol.QueryReply;
import io.semnet.resolver.protocol.RecordPush;
import io.semnet.resolver.protocol.RulesPush;
import io.semnet.resolver.protocol.SignedRecord;
import io.semnet.resolver.protocol.SignedRules;
import io.semnet.resolver.transport.ControlTransport;
import io.semnet.resolver.transport.ServerBinding;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * The behavioural suite of the control plane, run once per transport (subclasses say how to make a
 * transport and how to cut a manager off the network). Time is stepped by hand ({@link TestTime}),
 * maintenance is run explicitly, so expiry and renewal are exact.
 */
public abstract class ControlPlaneBehaviourTest {
  protected static final Duration TTL = Duration.ofSeconds(30);
  protected static final Duration RENEW = Duration.ofSeconds(10);
  protected static final Duration CACHE_EXPIRY = Duration.ofSeconds(120);
  protected static final Duration NEGATIVE_TTL = Duration.ofSeconds(5);
  protected static final AddressPlan PLAN = AddressPlan.builder().ipv6(null).build();

  /** A fresh transport for one test. */
  protected abstract ControlTransport newTransport() throws Exception;

  /** Cuts manager {@code id} off (requests to it fail, its pushes are lost), as a network partition or broker outage would. */
  protected abstract void cut(String id) throws Exception;

  /** Undoes {@link #cut}. */
  protected abstract void heal(String id) throws Exception;

  protected TestTime time;
  protected RootAuthority authority;
  protected RecordingTransport transport;
  protected ServiceManager root;
  protected final Map<String, ServiceManager> clusters = new HashMap<>();
  protected final Map<String, WorkerResolver> workers = new HashMap<>();
  private final Map<String, NodeRegistration> nodes = new HashMap<>();
  private final Map<String, Integer> nextNs = new HashMap<>();
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeEach
  protected void setUp() throws Exception {
    time = new TestTime();
    authority = RootAuthority.generate();
    transport = new RecordingTransport(newTransport());
    root = newRoot(io.semnet.control.store.RootStore.inMemory());
  }

  @AfterEach
  protected void tearDown() throws Exception {
    for (WorkerResolver w : workers.values()) {
      w.close();
    }
    for (ServiceManager c : clusters.values()) {
      c.close();
    }
    if (root != null) {
      root.close();
    }
    for (AutoCloseable c : closeables) {
      c.close();
    }
    transport.close();
  }

  // ---------------------------------------------------------------- fixture

  protected ServiceManager newRoot(io.semnet.control.store.RootStore store) {
    return ServiceManager.root().id("root").transport(transport).authority(authority).plan(PLAN)
        .policyRegistry(TestPolicies.registry()).platformPolicies(Set.of("first", "near"))
        .store(store).clock(time).maintenanceInterval(Duration.ZERO).interestTtl(TTL).build();
  }

  protected ServiceManager cluster(String id, int pruneK) {
    ServiceManager c = ServiceManager.cluster().id(id).upstream("root").transport(transport).rootTrust(authority.trust())
        .policyRegistry(TestPolicies.registry()).pruneK(pruneK).clock(time).maintenanceInterval(Duration.ZERO)
        .interestTtl(TTL).requestTimeout(Duration.ofSeconds(1)).build();
    clusters.put(id, c);
    await(() -> c.isUpstreamOnline(), "cluster " + id + " greeted the root");
    return c;
  }

  public static WorkerEndpoint endpoint(String nodeId) {
    byte[] key = Arrays.copyOf(("key-" + nodeId).getBytes(StandardCharsets.UTF_8), 32);
    int n = Math.abs(nodeId.hashCode() % 250) + 1;
    return WorkerEndpoint.of(nodeId, new InetSocketAddress(Addresses.parseLiteral("192.0.2." + n), 51820), key);
  }

  protected NodeRegistration registerNode(String nodeId, String clusterId, GeoPoint location) {
    NodeRegistration r = root.orchestration().registerNode(clusterId, endpoint(nodeId), location);
    nodes.put(nodeId, r);
    return r;
  }

  protected WorkerResolver worker(String nodeId, String clusterId, GeoPoint location) {
    if (!nodes.containsKey(nodeId)) {
      registerNode(nodeId, clusterId, location);
    }
    WorkerResolver w = WorkerResolver.builder().nodeId(nodeId).manager(clusterId).transport(transport)
        .rootTrust(authority.trust()).location(location).ticker(time).clock(time).maintenanceInterval(Duration.ZERO)
        .renewInterval(RENEW).cacheExpiry(CACHE_EXPIRY).negativeTtl(NEGATIVE_TTL).requestTimeout(Duration.ofSeconds(3))
        .build().start();
    workers.put(nodeId, w);
    await(w::isOnline, "worker " + nodeId + " online");
    return w;
  }

  protected Locator locatorOn(String nodeId) {
    NodeRegistration n = nodes.get(nodeId);
    int i = nextNs.merge(nodeId, 1, Integer::sum);
    return Locator.of(n.subnetV4().addressAt(1 + i), null, n.endpoint(), 0);
  }

  protected static ServiceId sid(String appNs, String service) {
    return ServiceId.of("app", appNs, service, "prod");
  }

  protected ServiceRecord deploy(ServiceId s, int instances) {
    return root.orchestration().deploy(ServiceDescriptor.builder(s).instances(instances).build());
  }

  protected ServiceRecord place(ServiceId s, int ordinal, String nodeId) {
    return root.orchestration().placeInstance(s, ordinal, locatorOn(nodeId));
  }

  /** Gives a node an instance of a service in {@code appNs}, so that it may see that namespace. */
  protected ServiceId host(String nodeId, String appNs, String clusterId) {
    ServiceId s = sid(appNs, "client-" + nodeId);
    deploy(s, 1);
    place(s, 0, nodeId);
    ServiceManager c = clusters.get(clusterId);
    await(() -> c.record(s) != null && c.record(s).instance(0).locator() != null, "deployment interest reached " + clusterId);
    return s;
  }

  protected static Resolution get(CompletionStage<Resolution> s) throws Exception {
    return s.toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  public static void await(BooleanSupplier cond, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("timed out waiting until " + what);
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail("interrupted");
      }
    }
  }

  protected static InetAddress ip(ServiceRecord r, String policy) {
    return r.serviceIp(policy, true).address();
  }

  /** A standard set-up: cluster c1, worker w1 hosting a client in namespace "a", service a/api with 3 placed instances. */
  protected ServiceRecord standard() {
    cluster("c1", 0);
    WorkerResolver w = worker("w1", "c1", GeoPoint.of(48.1, 11.6));
    registerNode("n2", "c1", GeoPoint.of(52.5, 13.4));
    host("w1", "a", "c1");
    ServiceId api = sid("a", "api");
    deploy(api, 3);
    place(api, 0, "n2");
    place(api, 1, "n2");
    registerNode("m1", "c2", null); // a node of another cluster: services placed there are remote to c1
    assertNotNull(w);
    ServiceRecord last = place(api, 2, "w1");
    await(() -> clusters.get("c1").record(api) != null && clusters.get("c1").record(api).version() == last.version(),
        "c1 has the final record");
    return last;
  }

  // ---------------------------------------------------------------- resolution

  @Test
  void resolvesServiceIpsInstanceIpsAndNames() throws Exception {
    ServiceRecord api = standard();
    WorkerResolver w = workers.get("w1");

    Resolution bySip = get(w.resolve(ip(api, "first")));
    assertEquals(Resolution.Status.FOUND, bySip.status(), bySip.toString());
    assertTrue(bySip.route().isServiceIp());
    assertEquals("first", bySip.route().policy());
    assertEquals(api.version(), bySip.route().record().version());
    assertEquals(3, bySip.route().record().instances().size());

    InetAddress iip = api.instance(1).instanceIpv4().address();
    Resolution byIip = get(w.resolve(iip));
    assertEquals(Resolution.Status.FOUND, byIip.status());
    assertEquals(1, byIip.route().instance().ordinal());
    assertEquals("n2", byIip.route().instance().locator().worker().nodeId());
    assertTrue(byIip.route().instance().locator().worker().hasPublicKey(endpoint("n2").publicKey()),
        "the node's tunnel key travels with the route");

    Resolution byName = get(w.resolve(SemanticName.ofPolicy(api.service(), "near")));
    assertEquals(ip(api, "near"), byName.route().target().address());
    Resolution byInstanceName = get(w.resolve(SemanticName.ofInstance(api.service(), 2)));
    assertEquals(api.instance(2).instanceIpv4(), byInstanceName.route().target());

    assertNotNull(w.cached(ip(api, "first")), "cached after resolution");
    assertNotNull(w.cached(iip));
    assertNull(w.cached(Addresses.parseLiteral("172.30.99.99")), "cached never queries");
  }

  @Test
  void concurrentMissesShareOneQuery() throws Exception {
    ServiceRecord api = standard();
    WorkerResolver w = workers.get("w1");
    InetAddress sip = ip(api, "near");
    int before = transport.received("c1", Query.class).size();
    List<CompletableFuture<Resolution>> all = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      all.add(w.resolve(sip).toCompletableFuture());
    }
    for (CompletableFuture<Resolution> f : all) {
      assertTrue(f.get(10, TimeUnit.SECONDS).isFound());
    }
    assertEquals(1, transport.received("c1", Query.class).size() - before, () -> "50 concurrent misses, one query: "
        + transport.requests.stream().map(x -> x.managerId() + "<-" + x.clientId() + " " + x.message().type())
        .collect(Collectors.toList()));
  }

  @Test
  void completionsRunOnResolverThreads() throws Exception {
    ServiceId s = sid("a", "svc");
    InetAddress sip = Addresses.parseLiteral("172.30.1.1");
    java.util.concurrent.CountDownLatch answer = new java.util.concurrent.CountDownLatch(1);
    ServerBinding b = transport.bind("slow", (client, m) -> CompletableFuture.supplyAsync(() -> {
      if (m instanceof Query) {
        try {
          answer.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return fakeAnswer(m, SignedRecord.sign(record(s, 1, sip, "n2"), authority));
    }));
    try {
      WorkerResolver w = WorkerResolver.builder().nodeId("w9").manager("slow").transport(transport).rootTrust(authority.trust())
          .ticker(time).maintenanceInterval(Duration.ZERO).build().start();
      workers.put("w9", w);
      Thread caller = Thread.currentThread();
      long t0 = System.nanoTime();
      CompletionStage<Resolution> pending = w.resolve(sip);
      assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(1), "resolve returns at once");
      CompletableFuture<Thread> ran = new CompletableFuture<>();
      pending.thenRun(() -> ran.complete(Thread.currentThread()));
      answer.countDown();
      assertNotEquals(caller, ran.get(5, TimeUnit.SECONDS), "completed on a resolver thread");
      assertTrue(get(pending).isFound());
    } finally {
      b.close();
    }
  }

  @Test
  void routeNotFoundIsCachedBrieflyAndRegistersNothing() throws Exception {
    standard();
    WorkerResolver w = workers.get("w1");
    InetAddress nothing = Addresses.parseLiteral("172.30.200.1");
    int before = transport.received("c1", Query.class).size();
    assertEquals(Resolution.Status.NOT_FOUND, get(w.resolve(nothing)).status());
    assertEquals(Resolution.Status.NOT_FOUND, get(w.resolve(nothing)).status());
    assertEquals(1, transport.received("c1", Query.class).size() - before, "second answer came from the negative cache");
    time.advance(NEGATIVE_TTL.plusSeconds(1));
    assertEquals(Resolution.Status.NOT_FOUND, get(w.resolve(nothing)).status());
    assertEquals(2, transport.received("c1", Query.class).size() - before, "negative answer expired");

    ServiceId ghost = sid("a", "ghost");
    assertEquals(Resolution.Status.NOT_FOUND, get(w.resolve(SemanticName.ofPolicy(ghost, "first"))).status());
    assertTrue(clusters.get("c1").interestedClients(ghost).isEmpty());
    assertFalse(clusters.get("c1").upstreamInterests().contains(ghost), "route-not-found registers nothing upstream");
    assertTrue(root.interestedClients(ghost).isEmpty());
  }

  @Test
  void fastResolutionRegistersInterestAtBothLevels() throws Exception {
    ServiceRecord api = standard();
    ServiceId other = sid("a", "other");
    deploy(other, 1);
    place(other, 0, "m1");
    WorkerResolver w = workers.get("w1");
    assertTrue(get(w.resolve(ip(api, "first"))).isFound());
    assertTrue(get(w.resolve(SemanticName.ofPolicy(other, "first"))).isFound());
    assertEquals(Set.of("w1"), clusters.get("c1").interestedClients(other));
    assertTrue(clusters.get("c1").upstreamInterests().contains(other));
    assertEquals(Set.of("c1"), root.interestedClients(other));
  }

  @Test
  void clusterHoldingInterestButLackingDataForwardsWithoutRegistering() throws Exception {
    ServiceRecord api = standard();
    WorkerResolver w = workers.get("w1");
    assertTrue(get(w.resolve(ip(api, "first"))).isFound());
    // The cluster holds the record (deployment interest + interest); instance 7 is not in it.
    int before = transport.received("root", Query.class).size();
    Resolution r = get(w.resolve(SemanticName.ofInstance(api.service(), 7)));
    assertEquals(Resolution.Status.NOT_FOUND, r.status());
    List<Query> toRoot = transport.received("root", Query.class);
    assertEquals(before + 1, toRoot.size(), "the cluster asked the root");
    assertFalse(toRoot.get(toRoot.size() - 1).register(), "without registering its interest again");
  }

  // ---------------------------------------------------------------- updates

  @Test
  void migrationIsPushedAndKeepsTheInstanceIp() throws Exception {
    ServiceRecord api = standard();
    WorkerResolver w = workers.get("w1");
    InetAddress iip = api.instance(0).instanceIpv4().address();
    Route before = get(w.resolve(iip)).route();
    assertEquals("n2", before.instance().locator().worker().nodeId());
    List<Long> seen = new CopyOnWriteArrayList<>();
    w.addListener(listener(seen, new CopyOnWriteArrayList<>()));

    registerNode("n3", "c1", GeoPoint.of(40.4, -3.7));
    ServiceRecord moved = root.orchestration().migrate(api.service(), 0, locatorOn("n3"));
    await(() -> w.cached(iip).instance().locator().worker().nodeId().equals("n3"), "worker saw the migration");
    Route after = w.cached(iip);
    assertEquals(before.target(), after.target(), "InstanceIP kept");
    assertTrue(after.instance().locator().isNewerThan(before.instance().locator()));
    assertEquals(moved.version(), after.record().version());
    await(() -> seen.contains(moved.version()), "listener told");
    assertEquals(List.of(moved.version()), seen);
  }

  /** Cluster c1, worker w1 and node n3; service solo/state whose one instance is placed on w1, which resolved it. */
  private ServiceRecord lonePlacedOnW1() throws Exception {
    cluster("c1", 0);
    WorkerResolver w = worker("w1", "c1", GeoPoint.of(48.1, 11.6));
    registerNode("n3", "c1", GeoPoint.of(40.4, -3.7));
    ServiceId lone = sid("solo", "state");
    deploy(lone, 1);
    ServiceRecord placed = place(lone, 0, "w1");
    InetAddress iip = placed.instance(0).instanceIpv4().address();
    assertEquals("w1", get(w.resolve(iip)).route().instance().locator().worker().nodeId());
    return placed;
  }

  @Test
  void theNodeAnInstanceLeftIsToldWhereItWentThoughNothingLeftThereMaySeeIt() throws Exception {
    ServiceRecord placed = lonePlacedOnW1();
    WorkerResolver w = workers.get("w1");
    InetAddress iip = placed.instance(0).instanceIpv4().address();
    root.orchestration().migrate(placed.service(), 0, locatorOn("n3"));
    // w1 forwards the instance's late packets: it must learn the new place (a make-before-break hold).
    await(() -> w.cached(iip).instance().locator().worker().nodeId().equals("n3"), "the former host saw the move");
  }

  @Test
  @Disabled("open defect (issue 18): c2a9f07 fixed this by pushing every move to the hosts of the previous record, "
      + "and was reverted: with it, ~1 in 10 buffered moves of StatefulMigrationBenchmark lost its stream "
      + "(DROP_NO_FLOW at the destination); see /work/notes/migloss.md")
  void aThirdMoveReachesTheNodeItLeavesThoughThatNodesInterestWasWithdrawnWhileItHostedNothing() throws Exception {
    ServiceRecord placed = lonePlacedOnW1();
    ServiceManager c1 = clusters.get("c1");
    WorkerResolver w = workers.get("w1");
    ServiceId lone = placed.service();
    InetAddress iip = placed.instance(0).instanceIpv4().address();
    ServiceRecord away = root.orchestration().migrate(lone, 0, locatorOn("n3"));
    await(() -> w.cached(iip).record().version() == away.version(), "w1 saw the move away");
    // w1 hosts nothing now: its next renewal withdraws the service there (w1 refuses the unsigned
    // withdrawal and keeps its cached route) and the cluster forgets w1's interest.
    time.advance(RENEW);
    w.runMaintenance();
    await(() -> !c1.interestedClients(lone).contains("w1"), "the cluster dropped w1's interest");
    root.orchestration().migrate(lone, 0, locatorOn("w1")); // back home: w1 restores it from its own record
    ServiceRecord third = root.orchestration().migrate(lone, 0, locatorOn("n3"));
    // w1 holds the instance's packets until it learns the third move's locator (make-before-break).
    await(() -> w.cached(iip).record().version() == third.version(), "w1, which the instance left again, saw the third move");
  }

  @Test
  void pushedUpdatesAreAppliedInVersionOrder() throws Exception {
    ServiceRecord api = standard();
    WorkerResolver w = workers.get("w1");
    get(w.resolve(ip(api, "first")));
    List<Long> seen = new CopyOnWriteArrayList<>();
    w.addListener(listener(seen, new CopyOnWriteArrayList<>()));
    ServiceRecord last = null;
    for (int i = 0; i < 5; i++) {
      last = root.orchestration().updateCapacity(api.service(), 0, i + 1.0);
    }
    long lastVersion = last.version();
    await(() -> w.record(api.service()).version() == lastVersion, "all updates arrived");
    await(() -> seen.contains(lastVersion), "listener told of the last version");
    List<Long> snapshot = new ArrayList<>(seen);
    List<Long> sorted = new ArrayList<>(snapshot);
    sorted.sort(null);
    assertEquals(sorted, snapshot, "listeners saw versions in increasing order");
    assertEquals(snapshot.size(), new java.util.HashSet<>(snapshot).size(), "each version once");
    assertEquals(5.0, w.record(api.service()).instance(0).metadata().capacity());
  }

  @Test
  void staleAndForgedPushesNeverOverwriteANewerRecord() throws Exception {
    // A fake cluster manager, bound on the same transport, that we drive by hand.
    RootAuthority mallory = RootAuthority.generate();
    ServiceId s = sid("a", "svc");
    InetAddress sip = Addresses.parseLiteral("172.30.1.1");
    ServiceRecord v3 = record(s, 3, sip, "n2");
    ServiceRecord v2 = record(s, 2, sip, "n9");
    ServiceRecord v4 = record(s, 4, sip, "evil");
    List<ServerBinding> binding = new ArrayList<>();
    binding.add(transport.bind("fake", (client, m) -> CompletableFuture.completedFuture(fakeAnswer(m, SignedRecord.sign(v3, authority)))));
    WorkerResolver w = WorkerResolver.builder().nodeId("w9").manager("fake").transport(transport).rootTrust(authority.trust())
        .ticker(time).maintenanceInterval(Duration.ZERO).build().start();
    workers.put("w9", w);
    List<Long> seen = new CopyOnWriteArrayList<>();
    w.addListener(listener(seen, new CopyOnWriteArrayList<>()));
    assertEquals(3, get(w.resolve(sip)).route().record().version());

    binding.get(0).push("w9", new RecordPush(SignedRecord.sign(v2, authority)));      // stale
    binding.get(0).push("w9", new RecordPush(SignedRecord.sign(v4, mallory)));        // forged signature
    binding.get(0).push("w9", new RecordPush(SignedRecord.unsigned(v4)));             // unsigned
    ServiceRecord v5 = record(s, 5, sip, "n5");
    SignedRecord tampered = tamper(SignedRecord.sign(v5, authority), "evil");          // instance changed after signing
    binding.get(0).push("w9", new RecordPush(tampered));
    ServiceRecord v6 = record(s, 6, sip, "n6");
    binding.get(0).push("w9", new RecordPush(SignedRecord.sign(v6, authority)));      // the only good one
    await(() -> w.record(s).version() == 6, "the valid newer record arrived");
    assertEquals("n6", w.cached(sip).record().instance(0).locator().worker().nodeId());
    await(() -> seen.contains(6L), "listener told");
    assertEquals(List.of(3L, 6L), seen, "stale, forged, unsigned and tampered pushes were never applied");
    WorkerResolver.Stats st = w.stats();
    assertEquals(3, st.rejected(), st.toString());
    assertEquals(1, st.staleIgnored(), st.toString());
    assertEquals(2, st.applied(), st.toString());
    binding.get(0).close();
  }

  @Test
  void forgedOrUnsignedAnswersAreRejected() throws Exception {
    RootAuthority mallory = RootAuthority.generate();
    ServiceId s = sid("a", "svc");
    InetAddress forged = Addresses.parseLiteral("172.30.1.1");
    InetAddress unsigned = Addresses.parseLiteral("172.30.1.2");
    ServerBinding b = transport.bind("fake", (client, m) -> {
      if (m instanceof Query && forged.equals(((Query) m).key().address())) {
        return CompletableFuture.completedFuture(QueryReply.found(SignedRecord.sign(record(s, 1, forged, "evil"), mallory)));
      }
      return CompletableFuture.completedFuture(fakeAnswer(m, SignedRecord.unsigned(record(s, 1, unsigned, "evil"))));
    });
    try {
      WorkerResolver w = WorkerResolver.builder().nodeId("w9").manager("fake").transport(transport).rootTrust(authority.trust())
          .ticker(time).maintenanceInterval(Duration.ZERO).build().start();
      workers.put("w9", w);
      Resolution r1 = get(w.resolve(forged));
      assertEquals(Resolution.Status.UNAVAILABLE, r1.status());
      assertTrue(r1.reason().contains("signature"), r1.reason());
      assertEquals(Resolution.Status.UNAVAILABLE, get(w.resolve(unsigned)).status());
      assertNull(w.cached(forged));
      assertNull(w.cached(unsigned));
      // Forged isolation rules are ignored too.
      b.push("w9", new RulesPush(SignedRules.sign(99, IsolationRules.DEFAULT.withGrant(
          Grant.of(ServiceSelector.appNamespace("a"), ServiceSelector.appNamespace("b"))), mallory)));
      b.push("w9", new RulesPush(SignedRules.sign(98, IsolationRules.DEFAULT.withGrant(
          Grant.of(ServiceSelector.appNamespace("a"), ServiceSelector.appNamespace("c"))), authority)));
      await(() -> w.isolationRules().grants().size() == 1, "valid rules applied");
      assertEquals("c/*/*/*", w.isolationRules().grants().get(0).to().toString());
    } finally {
      b.close();
    }
  }

  @Test
  void clusterRejectsForgedRecordsFromUpstream() throws Exception {
    RootAuthority mallory = RootAuthority.generate();
    ServiceId s = sid("a", "svc");
    InetAddress sip = Addresses.parseLiteral("172.30.1.1");
    root.close();
    root = null;
    ServerBinding fakeRoot = transport.bind("root", (client, m) -> {
      if (m instanceof Hello) {
        return CompletableFuture.completedFuture(new HelloReply(SignedRules.sign(1, IsolationRules.DEFAULT, authority)));
      }
      return CompletableFuture.completedFuture(QueryReply.found(SignedRecord.sign(record(s, 1, sip, "evil"), mallory)));
    });
    try {
      ServiceManager c = cluster("c1", 0);
      var ch = transport.connect("c1", "w9", m -> { });
      assertTrue(ch.request(new Hello("w9", io.semnet.resolver.protocol.Role.WORKER, null), Duration.ofSeconds(5))
          .toCompletableFuture().get(5, TimeUnit.SECONDS) instanceof HelloReply);
      ControlMessage reply = ch.request(new Query(io.semnet.resolver.protocol.QueryKey.of(sip), true), Duration.ofSeconds(5))
          .toCompletableFuture().get(5, TimeUnit.SECONDS);
      assertEquals(QueryReply.Status.UNAVAILABLE, ((QueryReply) reply).status());
      assertNull(c.record(s), "the forged record was not stored");
      ch.close();
    } finally {
      fakeRoot.close();
    }
  }

  // ---------------------------------------------------------------- interests

  @Test
  void interestIsRenewedWhileUsedAndExpiresWhenNot() throws Exception {
    ServiceRecord api = standard();
    ServiceId other = sid("a", "other");
    deploy(other, 1);
    place(other, 0, "m1");
    ServiceManager c1 = clusters.get("c1");
    WorkerResolver w = workers.get("w1");
    InetAddress sip = ip(root.orchestration().record(other), "first");
    assertTrue(get(w.resolve(sip)).isFound());
    assertEquals(Set.of("w1"), c1.interestedClients(other));

    // Used: the route is looked up every 5 s; the worker renews every 10 s; TTL is 30 s.
    for (int t = 0; t < 12; t++) {
      time.advance(Duration.ofSeconds(5));
      assertNotNull(w.cached(sip));
      w.runMaintenance();
      c1.runMaintenance();
    }
    assertEquals(Set.of("w1"), c1.interestedClients(other), "renewed while used (60 s > TTL)");
    assertTrue(root.interestedClients(other).contains("c1"), "the cluster renewed upstream while a worker used it");

    // Unused: no renewal, the interest expires at the cluster, then the cluster drops its own.
    for (int t = 0; t < 8; t++) {
      time.advance(Duration.ofSeconds(5));
      w.runMaintenance();
      c1.runMaintenance();
    }
    assertTrue(c1.interestedClients(other).isEmpty(), "expired when not used");
    root.runMaintenance();
    assertFalse(c1.upstreamInterests().contains(other), "cluster dropped its upstream interest");
    assertNull(c1.record(other), "and forgot the record (not deployed in this cluster)");
    await(() -> !root.interestedClients(other).contains("c1"), "the root dropped the cluster's interest");
    // The service deployed in the cluster (api has an instance on w1) stays: deployment interest.
    assertNotNull(c1.record(api.service()));
    assertNotNull(w.cached(sip), "the worker still has the route until its cache expiry");
  }

  @Test
  void unusedRoutesAreForgottenAndTheirInterestDropped() throws Exception {
    ServiceRecord api = standard();
    WorkerResolver w = workers.get("w1");
    InetAddress sip = ip(api, "first");
    get(w.resolve(sip));
    assertEquals(Set.of("w1"), clusters.get("c1").interestedClients(api.service()));
    time.advance(CACHE_EXPIRY.plusSeconds(1));
    w.runMaintenance();
    assertNull(w.cached(sip));
    assertFalse(w.cachedServices().contains(api.service()));
    await(() -> !transport.received("c1", Drop.class).isEmpty(), "drop sent");
    await(() -> clusters.get("c1").interestedClients(api.service()).isEmpty(), "interest dropped at once");
  }

  @Test
  void deploymentInterestBringsEveryServiceOfTheCluster() {
    cluster("c1", 0);
    cluster("c2", 0);
    registerNode("n1", "c1", null);
    registerNode("m1", "c2", null);
    ServiceId s = sid("a", "dep");
    deploy(s, 2);
    place(s, 0, "n1");
    await(() -> clusters.get("c1").record(s) != null, "c1 got the record without any query");
    assertNull(clusters.get("c2").record(s), "c2 hosts nothing of it");
    place(s, 1, "m1");
    await(() -> clusters.get("c2").record(s) != null, "c2 got it once an instance was placed there");
  }

  @Test
  void kPruningKeepsTheKMostRelevantPerPolicy() throws Exception {
    cluster("c1", 2);
    WorkerResolver w = worker("w1", "c1", GeoPoint.of(48.1, 11.6)); // Munich
    host("w1", "a", "c1");
    String[] cities = {"far1", "far2", "far3", "near1", "far4", "near2", "far5", "far6", "far7", "far8"};
    double[][] where = {{-33, 151}, {35, 139}, {40, -74}, {48.2, 11.5}, {-23, -46}, {47.4, 8.5}, {55, 37}, {1, 103}, {19, 72}, {64, -21}};
    ServiceId s = sid("a", "big");
    deploy(s, 10);
    for (int i = 0; i < 10; i++) {
      registerNode(cities[i], "c1", GeoPoint.of(where[i][0], where[i][1]));
      place(s, i, cities[i]);
    }
    ServiceRecord full = root.orchestration().record(s);
    await(() -> clusters.get("c1").record(s) != null && clusters.get("c1").record(s).version() == full.version(),
        "cluster has the final record");
    Resolution r = get(w.resolve(ip(full, "near")));
    Set<Integer> got = r.route().record().instances().stream().map(InstanceRecord::ordinal).collect(Collectors.toSet());
    // "near" keeps the two closest to Munich (3, 5); "first" has no preference and keeps ordinals 0, 1.
    assertEquals(Set.of(0, 1, 3, 5), got);
    assertEquals(10, clusters.get("c1").record(s).instances().size(), "the cluster keeps the whole record");
    // An InstanceIP outside the k best is still answered, and kept in later pushes.
    InetAddress far = full.instance(8).instanceIpv4().address();
    Route farRoute = get(w.resolve(far)).route();
    assertEquals(8, farRoute.instance().ordinal());
    long v = root.orchestration().updateCapacity(s, 8, 3.0).version();
    await(() -> w.record(s).version() == v, "push arrived");
    assertNotNull(w.cached(far).instance(), "pinned instance kept in pruned pushes");
    assertEquals(3.0, w.cached(far).instance().metadata().capacity());
  }

  // ---------------------------------------------------------------- isolation

  @Test
  void noRouteLeaksAcrossNamespacesWithoutAGrant() throws Exception {
    cluster("c1", 0);
    WorkerResolver w = worker("w1", "c1", null);
    registerNode("n2", "c1", null);
    host("w1", "a", "c1");
    ServiceId secret = sid("b", "secret");
    deploy(secret, 1);
    ServiceRecord r = place(secret, 0, "n2");
    InetAddress sip = ip(r, "first");
    Resolution denied = get(w.resolve(sip));
    assertEquals(Resolution.Status.NOT_FOUND, denied.status(), "namespace b is invisible from a");
    assertEquals(Resolution.Status.NOT_FOUND, get(w.resolve(SemanticName.ofInstance(secret, 0))).status());
    assertTrue(clusters.get("c1").interestedClients(secret).isEmpty());

    Grant g = Grant.of(ServiceSelector.appNamespace("a"), ServiceSelector.appNamespace("b"));
    root.orchestration().grant(g);
    await(() -> w.isolationRules().grants().contains(g), "grant pushed to the worker");
    assertTrue(w.isolationRules().mayReach(sid("a", "x"), secret));
    time.advance(NEGATIVE_TTL.plusSeconds(1));
    assertTrue(get(w.resolve(sip)).isFound(), "visible with the grant");

    List<ServiceId> removed = new CopyOnWriteArrayList<>();
    w.addListener(listener(new CopyOnWriteArrayList<>(), removed));
    root.orchestration().revoke(g);
    await(() -> removed.contains(secret), "worker told to forget after the revocation");
    assertNull(w.cached(sip));
    assertFalse(w.isolationRules().mayReach(sid("a", "x"), secret));
  }

  @Test
  void aNodeWithoutInstancesSeesNothing() throws Exception {
    ServiceRecord api = standard();
    WorkerResolver lonely = worker("w2", "c1", null);
    assertEquals(Resolution.Status.NOT_FOUND, get(lonely.resolve(ip(api, "first"))).status());
  }

  @Test
  void aNodeConnectingLateSeesWhatWasPlacedOnIt() throws Exception {
    ServiceManager c1 = cluster("c1", 0);
    registerNode("w5", "c1", null);
    registerNode("n2", "c1", null);
    ServiceId mine = sid("a", "client-w5");
    deploy(mine, 1);
    place(mine, 0, "w5");
    ServiceId api = sid("a", "api");
    deploy(api, 1);
    ServiceRecord last = place(api, 0, "n2");
    await(() -> c1.record(mine) != null && c1.record(mine).instance(0).locator() != null, "deployment interest reached c1");
    c1.runMaintenance(); // w5's worker has not connected yet: c1 keeps no record for it
    WorkerResolver w = worker("w5", "c1", null);
    await(() -> c1.record(mine) != null, "c1 fetched again what is deployed on the node that connected");
    assertTrue(get(w.resolve(ip(last, "first"))).isFound(), "the late node sees the services its instances may reach");
  }

  @Test
  void aRogueClientCannotSeeOrDisturbOthers() throws Exception {
    ServiceRecord api = standard();
    WorkerResolver w = workers.get("w1");
    InetAddress sip = ip(api, "first");
    assertTrue(get(w.resolve(sip)).isFound());
    var rogue = transport.connect("c1", "rogue", m -> { });
    try {
      Duration t = Duration.ofSeconds(5);
      ControlMessage r0 = rogue.request(new io.semnet.resolver.protocol.Drop(List.of(api.service())), t).toCompletableFuture().get();
      assertEquals(new io.semnet.resolver.protocol.ErrorReply(io.semnet.resolver.protocol.ErrorReply.HELLO_REQUIRED), r0);
      ControlMessage r1 = rogue.request(new Hello("w1", io.semnet.resolver.protocol.Role.WORKER, null), t).toCompletableFuture().get();
      assertTrue(r1 instanceof io.semnet.resolver.protocol.ErrorReply, "cannot claim another node's id: " + r1);
      assertTrue(rogue.request(new Hello("rogue", io.semnet.resolver.protocol.Role.CLUSTER, null), t).toCompletableFuture().get()
          instanceof HelloReply);
      ControlMessage q = rogue.request(new Query(io.semnet.resolver.protocol.QueryKey.of(sip), true), t).toCompletableFuture().get();
      assertEquals(QueryReply.Status.NOT_FOUND, ((QueryReply) q).status(), "hosts nothing, sees nothing (also when claiming to be a cluster)");
      ControlMessage q2 = rogue.request(new Query(io.semnet.resolver.protocol.QueryKey.of(
          SemanticName.ofInstance(api.service(), 999_999_999)), true), t).toCompletableFuture().get();
      assertEquals(QueryReply.Status.NOT_FOUND, ((QueryReply) q2).status());
      ControlMessage rr = rogue.request(new io.semnet.resolver.protocol.Renew(List.of(
          new io.semnet.resolver.protocol.ServiceVersion(api.service(), Long.MAX_VALUE))), t).toCompletableFuture().get();
      assertTrue(((io.semnet.resolver.protocol.RenewReply) rr).newer().isEmpty(), "renewal leaks nothing");
      rogue.request(new io.semnet.resolver.protocol.Drop(List.of(api.service())), t).toCompletableFuture().get();
      ControlMessage odd = rogue.request(new RecordPush(SignedRecord.sign(api, authority)), t).toCompletableFuture().get();
      assertTrue(odd instanceof io.semnet.resolver.protocol.ErrorReply, "a push sent as a request is refused");
    } finally {
      rogue.close();
    }
    assertEquals(Set.of("w1"), clusters.get("c1").interestedClients(api.service()), "w1's interest untouched");
    assertFalse(clusters.get("c1").interestedClients(api.service()).contains("rogue"));
    assertEquals(api, clusters.get("c1").record(api.service()));
    registerNode("n3", "c1", null);
    ServiceRecord moved = root.orchestration().migrate(api.service(), 0, locatorOn("n3"));
    await(() -> w.record(api.service()).version() == moved.version(), "w1 still gets its pushes");
  }

  // ---------------------------------------------------------------- offline and recovery

  @Test
  void offlineServesStaleRoutesFailsNewOnesAndRecovers() throws Exception {
    ServiceRecord api = standard();
    ServiceId other = sid("a", "other");
    deploy(other, 1);
    ServiceRecord otherRec = place(other, 0, "m1");
    WorkerResolver w = workers.get("w1");
    InetAddress sip = ip(api, "first");
    InetAddress iip0 = api.instance(0).instanceIpv4().address();
    assertTrue(get(w.resolve(sip)).isFound());
    assertTrue(get(w.resolve(iip0)).isFound());

    cut("c1");
    time.advance(RENEW);
    w.runMaintenance();
    assertFalse(w.isOnline(), "reports offline");
    assertFalse(w.stats().online(), "and says so in its metrics");
    assertNotNull(w.cached(sip), "stale route keeps serving");
    assertTrue(get(w.resolve(sip)).isFound(), "resolve of a cached key still answers");
    Resolution fresh = get(w.resolve(ip(otherRec, "first")));
    assertEquals(Resolution.Status.UNAVAILABLE, fresh.status(), "a new key fails cleanly");

    // Meanwhile the instance moves; the worker cannot hear it.
    registerNode("n3", "c1", null);
    ServiceRecord moved = root.orchestration().migrate(api.service(), 0, locatorOn("n3"));
    Thread.sleep(50);
    assertEquals("n2", w.cached(iip0).instance().locator().worker().nodeId());

    heal("c1");
    clusters.get("c1").runMaintenance(); // its periodic renewal catches up with the root
    w.runMaintenance();
    assertTrue(w.isOnline(), "recovered by itself");
    await(() -> w.cached(iip0).record().version() >= moved.version(), "caught up after recovery");
    assertEquals("n3", w.cached(iip0).instance().locator().worker().nodeId());
    assertTrue(get(w.resolve(ip(otherRec, "first"))).isFound());
    assertTrue(clusters.get("c1").interestedClients(api.service()).contains("w1"));
  }

  @Test
  void clusterManagerRestartIsRecoveredFrom() throws Exception {
    ServiceRecord api = standard();
    WorkerResolver w = workers.get("w1");
    InetAddress iip0 = api.instance(0).instanceIpv4().address();
    assertTrue(get(w.resolve(iip0)).isFound());
    clusters.remove("c1").close();
    time.advance(RENEW);
    w.runMaintenance();
    assertFalse(w.isOnline());
    assertNotNull(w.cached(iip0));

    ServiceManager c1 = cluster("c1", 0);
    w.runMaintenance();
    assertTrue(w.isOnline());
    await(() -> c1.interestedClients(api.service()).contains("w1"), "interest re-registered at the new cluster manager");
    registerNode("n3", "c1", null);
    root.orchestration().migrate(api.service(), 0, locatorOn("n3"));
    await(() -> w.cached(iip0).instance().locator().worker().nodeId().equals("n3"), "pushes flow again");
  }

  @Test
  void rootOutageLeavesTheClusterServingWhatItHas() throws Exception {
    ServiceRecord api = standard();
    ServiceId other = sid("a", "other");
    deploy(other, 1);
    ServiceRecord otherRec = place(other, 0, "m1");
    WorkerResolver w = workers.get("w1");
    cut("root");
    // The cluster has api (deployment interest) and answers from it; "other" needs the root.
    assertTrue(get(w.resolve(ip(api, "near"))).isFound());
    Resolution r = get(w.resolve(ip(otherRec, "near")));
    assertEquals(Resolution.Status.UNAVAILABLE, r.status(), r.toString());
    assertTrue(w.isOnline(), "the worker's own manager is fine");
    heal("root");
    assertTrue(get(w.resolve(ip(otherRec, "near"))).isFound());
  }

  @Test
  void rootRestartIsRecoveredFromWithoutLosingAllocations(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    root.close();
    java.nio.file.Path journal = dir.resolve("root.journal");
    root = newRoot(io.semnet.control.store.RootStore.journal(journal));
    ServiceRecord api = standard();
    ServiceId other = sid("a", "other");
    deploy(other, 1);
    ServiceRecord otherRec = place(other, 0, "m1");
    WorkerResolver w = workers.get("w1");
    InetAddress otherIp = ip(otherRec, "first");
    assertTrue(get(w.resolve(otherIp)).isFound());

    root.close();
    root = newRoot(io.semnet.control.store.RootStore.journal(journal));
    assertEquals(otherRec, root.orchestration().record(other), "state restored from the journal");
    // The cluster notices at its next maintenance (the root asks it to greet again) and re-registers.
    clusters.get("c1").runMaintenance();
    await(() -> root.interestedClients(other).contains("c1"), "the cluster's interest is back at the new root");
    ServiceRecord moved = root.orchestration().migrate(other, 0, locatorOn("m1"));
    await(() -> w.record(other).version() == moved.version(), "pushes flow from the restarted root");
    ServiceRecord fresh = deploy(sid("a", "fresh"), 3);
    for (InstanceRecord i : fresh.instances()) {
      InetAddress a = i.instanceIpv4().address();
      assertTrue(api.instances().stream().noneMatch(x -> x.instanceIpv4().address().equals(a))
          && otherRec.instance(0).instanceIpv4().address() != null && !otherRec.instance(0).instanceIpv4().address().equals(a)
          && api.serviceIps().stream().noneMatch(x -> x.address().equals(a)), "no address handed out twice");
    }
    assertTrue(fresh.version() > moved.version());
  }

  // ---------------------------------------------------------------- removal

  @Test
  void removalIsPushedAndForgotten() throws Exception {
    ServiceRecord api = standard();
    WorkerResolver w = workers.get("w1");
    InetAddress sip = ip(api, "first");
    get(w.resolve(sip));
    List<ServiceId> removed = new CopyOnWriteArrayList<>();
    w.addListener(listener(new CopyOnWriteArrayList<>(), removed));
    root.orchestration().remove(api.service());
    await(() -> removed.contains(api.service()), "removal pushed");
    assertNull(w.cached(sip));
    assertNull(clusters.get("c1").record(api.service()));
    time.advance(NEGATIVE_TTL.plusSeconds(1));
    assertEquals(Resolution.Status.NOT_FOUND, get(w.resolve(sip)).status());
  }

  // ---------------------------------------------------------------- helpers

  protected static RouteListener listener(List<Long> versions, List<ServiceId> removed) {
    return new RouteListener() {
      @Override
      public void onRecordUpdated(ServiceRecord previous, ServiceRecord current) {
        versions.add(current.version());
      }

      @Override
      public void onServiceRemoved(io.semnet.core.service.ServiceId service) {
        removed.add(service);
      }
    };
  }

  protected static ServiceRecord record(ServiceId s, long version, InetAddress sip, String node) {
    InstanceRecord i = InstanceRecord.of(s, 0, Addresses.parseLiteral("172.30.9.9"), null,
        Locator.of(Addresses.parseLiteral("172.16.0.2"), null, endpoint(node), version), InstanceMetadata.NONE);
    return ServiceRecord.of(s, version, List.of(ServiceIp.of(s, "first", sip)), List.of(i));
  }

  protected static SignedRecord tamper(SignedRecord sr, String node) {
    ServiceRecord r = sr.record();
    InstanceRecord i = r.instances().get(0);
    InstanceRecord evil = i.withLocator(Locator.of(i.locator().namespaceIpv4(), null, endpoint(node), i.locator().version()));
    return SignedRecord.of(r.withInstances(List.of(evil)), sr.digests(), sr.signature());
  }

  protected ControlMessage fakeAnswer(ControlMessage m, SignedRecord answer) {
    if (m instanceof Hello) {
      return new HelloReply(SignedRules.sign(1, IsolationRules.DEFAULT, authority));
    }
    if (m instanceof Query) {
      return QueryReply.found(answer);
    }
    return new io.semnet.resolver.protocol.Ack();
  }
}
