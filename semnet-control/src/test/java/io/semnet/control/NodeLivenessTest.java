package io.semnet.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.control.store.RootStore;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RootAuthority;
import io.semnet.resolver.NodeRegistration;
import io.semnet.resolver.WorkerResolver;
import io.semnet.resolver.protocol.WireCodec;
import io.semnet.resolver.transport.InProcessTransport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Node liveness through the managers (issue 16 item 2), over the codec'd in-process transport whose
 * {@code setAlive} stands for the MQTT last will: availability hints reach workers' views and never
 * change records; the root numbers node-down, instance-unreachable and node-up events, an
 * orchestrator subscribed through the remote API gets them in order, catches up without gaps after
 * a reconnect, and a root that takes over on the same store continues the numbering (and reports
 * what it cannot replay as a gap).
 */
class NodeLivenessTest {
  static final ServiceId SVC = ServiceId.of("app", "a", "api", "prod");
  private final TestTime time = new TestTime();
  private final OrchestratorKey key = OrchestratorKey.generate();
  private final RootAuthority authority = RootAuthority.generate();
  private final RootStore store = RootStore.inMemory();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private InProcessTransport transport;
  private ServiceManager root;
  private OrchestrationService service;
  private RemoteOrchestration remote;

  private ServiceManager root(String id) {
    ServiceManager r = ServiceManager.root().id(id).transport(transport).authority(authority).plan(ControlPlaneBehaviourTest.PLAN)
        .policyRegistry(TestPolicies.registry()).platformPolicies(Set.of("first", "near")).clock(time).store(store)
        .maintenanceInterval(Duration.ZERO).build();
    service = OrchestrationService.builder().orchestration(r.orchestration()).nodeEvents(r.nodeEvents())
        .transport(transport).trust(key.publicKey()).clock(time).build();
    return r;
  }

  @BeforeEach
  void setUp() {
    transport = InProcessTransport.builder().codec(m -> WireCodec.decode(WireCodec.encode(m))).build();
    root = root("root");
    remote = RemoteOrchestration.builder().transport(transport).clientId("orch").key(key).clock(time)
        .eventRenewal(Duration.ofMillis(200)).build();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    remote.close();
    service.close();
    root.close();
    transport.close();
  }

  /** Two nodes, the service's #0 on n1 and #1 on n2. */
  private ServiceRecord deploy() {
    NodeRegistration n1 = remote.registerNode("c1", EnrolmentTest.endpoint("n1"), null);
    NodeRegistration n2 = remote.registerNode("c1", EnrolmentTest.endpoint("n2"), null);
    remote.deploy(ServiceDescriptor.builder(SVC).instances(2).build());
    remote.placeInstance(SVC, 0, Locator.of(n1.subnetV4().addressAt(2), null, n1.endpoint(), 0));
    return remote.placeInstance(SVC, 1, Locator.of(n2.subnetV4().addressAt(2), null, n2.endpoint(), 0));
  }

  static final class Collector implements NodeEventListener {
    final LinkedBlockingQueue<NodeEvent> events = new LinkedBlockingQueue<>();
    final List<long[]> gaps = new ArrayList<>();

    @Override
    public void onEvent(NodeEvent e) {
      events.add(e);
    }

    @Override
    public synchronized void onGap(long after, long upTo) {
      gaps.add(new long[] {after, upTo});
    }

    NodeEvent next() throws InterruptedException {
      NodeEvent e = events.poll(10, TimeUnit.SECONDS);
      if (e == null) {
        throw new AssertionError("no node event within 10 s");
      }
      return e;
    }
  }

  static void await(String what, BooleanSupplier c) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out: " + what);
      }
      Thread.sleep(5);
    }
  }

  @Test
  void anOrchestratorGetsNumberedEventsInOrderAndCatchesUpAfterAReconnect() throws Exception {
    ServiceRecord before = deploy();
    Collector c = new Collector();
    AutoCloseable sub = remote.subscribeNodeEvents(0, c);
    transport.setAlive("n2", true); // first seen alive: no event
    transport.setAlive("stranger", false); // not a registered node: no event
    transport.setAlive("n2", false);
    NodeEvent down = c.next();
    assertEquals(1, down.sequence());
    assertEquals(NodeEvent.Kind.NODE_DOWN, down.kind());
    assertEquals("n2", down.nodeId());
    assertEquals(time.millis(), down.atMillis());
    NodeEvent unreachable = c.next();
    assertEquals(2, unreachable.sequence());
    assertEquals(NodeEvent.Kind.INSTANCE_UNREACHABLE, unreachable.kind());
    assertEquals(SVC, unreachable.service());
    assertEquals(1, unreachable.ordinal());
    assertEquals(before, root.orchestration().record(SVC), "a hint never changes a record");
    transport.setAlive("n2", true);
    NodeEvent up = c.next();
    assertEquals(3, up.sequence());
    assertEquals(NodeEvent.Kind.NODE_UP, up.kind());

    // the orchestrator is away (its pushes lost) while n1 goes down and up: it resumes from 3
    sub.close();
    transport.setAlive("n1", false);
    transport.setAlive("n1", true);
    await("root numbered them", () -> root.nodeEvents().last() == 6);
    Collector again = new Collector();
    closeables.add(remote.subscribeNodeEvents(3, again));
    assertEquals(List.of(4L, 5L, 6L), List.of(again.next().sequence(), again.next().sequence(), again.next().sequence()));
    assertTrue(again.gaps.isEmpty());
    assertNull(again.events.poll(300, TimeUnit.MILLISECONDS), "each event once");
  }

  @Test
  void aRootThatTakesOverContinuesTheNumberingAndReportsWhatItCannotReplay() throws Exception {
    deploy();
    transport.setAlive("n1", true);
    transport.setAlive("n1", false);
    await("numbered", () -> root.nodeEvents().last() == 2); // n1 down, its #0 unreachable
    // the root process is replaced by another on the same store
    service.close();
    root.close();
    root = root("root2");
    assertEquals(2, root.nodeEvents().last(), "the number survives in the store");
    Collector c = new Collector();
    closeables.add(remote.subscribeNodeEvents(0, c));
    await("gap reported", () -> {
      synchronized (c) {
        return !c.gaps.isEmpty();
      }
    });
    synchronized (c) {
      assertEquals(0, c.gaps.get(0)[0]);
      assertEquals(2, c.gaps.get(0)[1]);
    }
    // the new root's watch sees n1's retained last will, then n1 back
    transport.setAlive("n1", false);
    NodeEvent down = c.next();
    assertEquals(3, down.sequence(), "numbering continues after the takeover");
    assertEquals(NodeEvent.Kind.NODE_DOWN, down.kind());
    assertEquals(NodeEvent.Kind.INSTANCE_UNREACHABLE, c.next().kind());
    transport.setAlive("n1", true);
    NodeEvent up = c.next();
    assertEquals(5, up.sequence());
    assertEquals(NodeEvent.Kind.NODE_UP, up.kind());
  }

  @Test
  void availabilityHintsMarkANodesInstancesUnavailableAtWorkersAndRestoreThem() throws Exception {
    ServiceManager c1 = ServiceManager.cluster().id("c1").upstream("root").transport(transport).rootTrust(authority.trust())
        .clock(time).maintenanceInterval(Duration.ZERO).build();
    closeables.add(c1);
    deploy();
    LocalNodeView view = new LocalNodeView("n1", null);
    WorkerResolver w = WorkerResolver.builder().nodeId("n1").manager("c1").transport(transport).rootTrust(authority.trust())
        .ticker(time).clock(time).maintenanceInterval(Duration.ZERO).build();
    closeables.add(w);
    w.start(io.semnet.testing.Fixtures.context("n1", view, w));
    await("worker online", w::isOnline);
    assertTrue(view.isPeerUp("n2"));
    transport.setAlive("n2", true);
    transport.setAlive("n2", false);
    await("n2 unavailable at n1", () -> !view.isPeerUp("n2"));
    ServiceRecord r = root.orchestration().record(SVC);
    assertFalse(view.isAvailable(r.instance(1)), "policies skip its instances");
    assertTrue(view.isAvailable(r.instance(0)));
    transport.setAlive("n2", true);
    await("n2 available again", () -> view.isPeerUp("n2"));
    transport.setAlive("n1", false); // a hint about the node itself is ignored there
    Thread.sleep(100);
    assertTrue(view.isPeerUp("n1"));
  }
}
