package io.semnet.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RootAuthority;
import io.semnet.resolver.NodeRegistration;
import io.semnet.resolver.protocol.OrchestrationCall;
import io.semnet.resolver.protocol.WireCodec;
import io.semnet.resolver.protocol.internal.Json;
import io.semnet.resolver.transport.InProcessTransport;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The orchestration API over the (codec'd) in-process transport: the same results as the root's
 * own object on a twin root, replayed calls executed once, expired calls and unknown keys refused.
 */
class RemoteOrchestrationTest {
  private final TestTime time = new TestTime();
  private final OrchestratorKey key = OrchestratorKey.generate();
  private InProcessTransport transport;
  private ServiceManager root;
  private ServiceManager twin;
  private OrchestrationService service;
  private RemoteOrchestration remote;

  private ServiceManager root(String id, RootAuthority a) {
    return ServiceManager.root().id(id).transport(transport).authority(a).plan(ControlPlaneBehaviourTest.PLAN)
        .policyRegistry(TestPolicies.registry()).platformPolicies(Set.of("first", "near")).clock(time)
        .maintenanceInterval(Duration.ZERO).build();
  }

  @BeforeEach
  void setUp() {
    transport = InProcessTransport.builder().codec(m -> WireCodec.decode(WireCodec.encode(m))).build();
    RootAuthority a = RootAuthority.generate();
    root = root("root", a);
    twin = root("twin", a);
    service = OrchestrationService.builder().orchestration(root.orchestration()).transport(transport).trust(key.publicKey())
        .clock(time).build();
    remote = RemoteOrchestration.builder().transport(transport).clientId("orch").key(key).clock(time).build();
  }

  @AfterEach
  void tearDown() {
    remote.close();
    service.close();
    root.close();
    twin.close();
    transport.close();
  }

  @Test
  void deployScaleMigrateEqualTheInProcessResults() {
    Orchestration local = twin.orchestration();
    ServiceId sid = ServiceId.of("app", "a", "api", "prod");
    var e1 = EnrolmentTest.endpoint("n1");
    var e2 = EnrolmentTest.endpoint("n2");
    NodeRegistration n1r = remote.registerNode("c1", e1, null);
    NodeRegistration n2r = remote.registerNode("c1", e2, null);
    assertEquals(local.registerNode("c1", e1, null).subnetV4(), n1r.subnetV4());
    assertEquals(local.registerNode("c1", e2, null).subnetV4(), n2r.subnetV4());
    assertEquals(n1r, remote.node("n1"));

    ServiceDescriptor d = ServiceDescriptor.builder(sid).instances(2).build();
    assertEquals(local.deploy(d), remote.deploy(d));
    assertEquals(local.scale(sid, 3), remote.scale(sid, 3));
    Locator at1 = Locator.of(n1r.subnetV4().addressAt(2), null, n1r.endpoint(), 0);
    assertEquals(local.placeInstance(sid, 0, at1), remote.placeInstance(sid, 0, at1));
    Locator at2 = Locator.of(n2r.subnetV4().addressAt(2), null, n2r.endpoint(), 0);
    assertEquals(local.migrate(sid, 0, at2), remote.migrate(sid, 0, at2));
    assertEquals(local.record(sid), remote.record(sid));
    assertEquals(local.platformPolicies(), remote.platformPolicies());
    assertEquals(2, remote.nodes().size());

    // errors carry the root's reason and change nothing
    OrchestrationException e = assertThrows(OrchestrationException.class, () -> remote.deploy(d));
    assertTrue(e.getMessage().contains("already deployed"), e.getMessage());
    assertEquals(local.record(sid), remote.record(sid));
    assertTrue(remote.issueJoinToken(Duration.ofMinutes(5), true).token().matches("[a-z0-9]{6}\\.[0-9a-f]{32}"));
  }

  @Test
  void aReplayedSignedCallExecutesOnce() {
    ServiceId sid = ServiceId.of("app", "a", "api", "prod");
    remote.deploy(ServiceDescriptor.builder(sid).instances(1).build());
    OrchestrationCall scale = remote.sign("scale", Json.obj().put("service", sid.toString()).put("instances", 2));
    ServiceRecord first = WireCodec.serviceRecord(remote.send(scale).get("record"));
    // a retry after a timeout, or a broker replaying it: same answer, no second version
    ServiceRecord again = WireCodec.serviceRecord(remote.send(scale).get("record"));
    assertEquals(first, again);
    assertEquals(first.version(), root.orchestration().record(sid).version());
    assertEquals(1L, service.stats().get("repeated"));
    // a scale to 1 then replaying the old scale-to-2 does not bring it back
    remote.scale(sid, 1);
    remote.send(scale);
    assertEquals(1, root.orchestration().record(sid).instances().size());
  }

  @Test
  void expiredCallsAndUnknownKeysAreRefused() {
    ServiceId sid = ServiceId.of("app", "a", "api", "prod");
    ObjectNode args = Json.obj();
    args.set("descriptor", io.semnet.control.internal.OrchestrationOps.descriptor(ServiceDescriptor.builder(sid).instances(1).build()));
    OrchestrationCall late = remote.sign("deploy", args);
    time.advance(Duration.ofMinutes(2));
    OrchestrationException expired = assertThrows(OrchestrationException.class, () -> remote.send(late));
    assertTrue(expired.getMessage().contains("expired"), expired.getMessage());

    RemoteOrchestration stranger = RemoteOrchestration.builder().transport(transport).clientId("stranger")
        .key(OrchestratorKey.generate()).clock(time).build();
    OrchestrationException unknown = assertThrows(OrchestrationException.class,
        () -> stranger.deploy(ServiceDescriptor.builder(sid).instances(1).build()));
    assertTrue(unknown.getMessage().contains("unknown orchestrator key"), unknown.getMessage());
    stranger.close();

    OrchestrationCall c = remote.sign("remove", Json.obj().put("service", sid.toString()));
    OrchestrationCall tampered = new OrchestrationCall(c.body().replace("remove", "deploy"), c.key(), c.signature());
    OrchestrationException bad = assertThrows(OrchestrationException.class, () -> remote.send(tampered));
    assertTrue(bad.getMessage().contains("signature"), bad.getMessage());
    assertEquals(null, root.orchestration().record(sid));
  }
}
