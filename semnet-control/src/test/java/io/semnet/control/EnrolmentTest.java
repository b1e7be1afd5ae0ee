package io.semnet.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.trust.RootAuthority;
import io.semnet.resolver.enrol.Enrolled;
import io.semnet.resolver.enrol.Enrolment;
import io.semnet.resolver.enrol.EnrolmentException;
import io.semnet.resolver.enrol.JoinToken;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.EnrolReply;
import io.semnet.resolver.protocol.EnrolRequest;
import io.semnet.resolver.protocol.ErrorReply;
import io.semnet.resolver.protocol.WireCodec;
import io.semnet.resolver.transport.ClientChannel;
import io.semnet.resolver.transport.InProcessTransport;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Enrolment with join tokens over the in-process transport, every message through the wire codec:
 * success, refusals with reasons and no change at the root, a captured proof that cannot be used
 * with other keys, a substituted root detected, renewal.
 */
class EnrolmentTest {
  private final RootAuthority authority = RootAuthority.generate();
  private final TestTime time = new TestTime();
  private final List<ControlMessage> wire = new CopyOnWriteArrayList<>();
  private InProcessTransport transport;
  private ServiceManager root;
  private EnrolmentService enrolment;

  @BeforeEach
  void setUp() {
    time.advance(Duration.between(time.instant(), java.time.Instant.now())); // the node checks validity on its own clock
    transport = InProcessTransport.builder().codec(m -> {
      wire.add(m);
      return WireCodec.decode(WireCodec.encode(m));
    }).build();
    root = ServiceManager.root().id("root").transport(transport).authority(authority).plan(ControlPlaneBehaviourTest.PLAN)
        .policyRegistry(TestPolicies.registry()).platformPolicies(Set.of("first", "near")).clock(time)
        .maintenanceInterval(Duration.ZERO).build();
    enrolment = EnrolmentService.bind(root, transport, Enrolment.DEFAULT_SERVICE_ID,
        (node, key, from, until) -> ("cert-of-" + node).getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  @AfterEach
  void tearDown() {
    enrolment.close();
    root.close();
    transport.close();
  }

  static WorkerEndpoint endpoint(String node) {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return WorkerEndpoint.of(node, new InetSocketAddress("192.0.2.7", 51820), key);
  }

  @Test
  void enrolsWithAOneTimeTokenAndRefusesItsReuse() {
    JoinToken t = root.orchestration().issueJoinToken("c1", Duration.ofMinutes(10), true);
    WorkerEndpoint ep = endpoint("n1");
    Enrolled e = Enrolment.enrol(transport, t.token(), t.rootKeyHash(), ep, GeoPoint.of(48.1, 11.6), new byte[] {1, 2, 3});

    assertEquals("c1", e.managerId());
    assertEquals(ep, e.registration().endpoint());
    assertEquals(authority.trust(), e.rootTrust());
    assertTrue(e.signedRegistration().serial() > 0);
    assertEquals(Duration.ofHours(24), Duration.between(e.signedRegistration().notBefore(), e.signedRegistration().notAfter()));
    assertEquals(e.signedRegistration().notAfter(), e.registration().certificate().notAfter());
    assertTrue(authority.trust().verify(e.registration().certificate(), time.instant()));
    assertEquals(ControlPlaneBehaviourTest.PLAN.toString(), e.plan().toString());
    assertEquals("cert-of-n1", new String(e.mqttCertificate(), java.nio.charset.StandardCharsets.UTF_8));
    assertEquals(e.registration(), root.orchestration().node("n1"));
    // the token never travelled
    for (ControlMessage m : wire) {
      assertTrue(!new String(WireCodec.encode(m)).contains(t.token().substring(7)), "secret on the wire in " + m.type());
    }

    EnrolmentException reuse = assertThrows(EnrolmentException.class,
        () -> Enrolment.enrol(transport, t.token(), t.rootKeyHash(), endpoint("n2"), null, null));
    assertTrue(reuse.getMessage().contains("already used"), reuse.getMessage());
    assertNull(root.orchestration().node("n2"));
    assertEquals(1, root.orchestration().nodes().size());
  }

  @Test
  void aReusableTokenEnrolsSeveralNodes() {
    JoinToken t = root.orchestration().issueJoinToken(Duration.ofMinutes(10), false);
    Enrolled a = Enrolment.enrol(transport, t.token(), t.rootKeyHash(), endpoint("n1"), null, null);
    Enrolled b = Enrolment.enrol(transport, t.token(), t.rootKeyHash(), endpoint("n2"), null, null);
    assertEquals(Orchestration.DEFAULT_CLUSTER, a.managerId());
    assertNotEquals(a.registration().subnetV4(), b.registration().subnetV4());
    assertNotEquals(a.signedRegistration().serial(), b.signedRegistration().serial());
    assertNull(a.mqttCertificate());
  }

  @Test
  void wrongAndExpiredTokensAreRefusedWithReasonsAndChangeNothing() {
    JoinToken t = root.orchestration().issueJoinToken("c1", Duration.ofMinutes(10), true);
    String wrongSecret = t.id() + "." + "0".repeat(32);
    EnrolmentException wrong = assertThrows(EnrolmentException.class,
        () -> Enrolment.enrol(transport, wrongSecret, t.rootKeyHash(), endpoint("n1"), null, null));
    assertTrue(wrong.getMessage().contains("does not match"), wrong.getMessage());
    EnrolmentException unknown = assertThrows(EnrolmentException.class,
        () -> Enrolment.enrol(transport, "zzzzzz." + "1".repeat(32), t.rootKeyHash(), endpoint("n1"), null, null));
    assertTrue(unknown.getMessage().contains("unknown join token"), unknown.getMessage());

    time.advance(Duration.ofMinutes(11));
    EnrolmentException expired = assertThrows(EnrolmentException.class,
        () -> Enrolment.enrol(transport, t.token(), t.rootKeyHash(), endpoint("n1"), null, null));
    assertTrue(expired.getMessage().contains("expired"), expired.getMessage());
    assertTrue(root.orchestration().nodes().isEmpty());
    assertEquals(3L, enrolment.stats().get("refused"));
    assertThrows(OrchestrationException.class, () -> root.orchestration().issueJoinToken(Duration.ofDays(8), true));
  }

  @Test
  void aCapturedProofCannotEnrolOtherKeys() throws Exception {
    JoinToken t = root.orchestration().issueJoinToken("c1", Duration.ofMinutes(10), true);
    WorkerEndpoint honest = endpoint("n1");
    // a broker observes the honest request ...
    byte[] proof = captureProof(t, honest);
    wire.clear();
    // ... and sends it first with its own tunnel key (same node id and address)
    WorkerEndpoint attacker = WorkerEndpoint.of("n1", honest.address(), endpoint("x").publicKey());
    EnrolRequest forged = new EnrolRequest(t.id(), attacker, null, null, t.rootKeyHash(), proof);
    ControlMessage answer;
    try (ClientChannel c = transport.connect(Enrolment.DEFAULT_SERVICE_ID, "n1", p -> {})) {
      answer = c.request(forged, Duration.ofSeconds(5)).toCompletableFuture().get(5, TimeUnit.SECONDS);
    }
    assertTrue(answer instanceof ErrorReply && ((ErrorReply) answer).reason().contains("does not match"), answer.toString());
    assertNull(root.orchestration().node("n1"));
    // the honest node still enrols with its token (it was not consumed)
    assertEquals(honest, Enrolment.enrol(transport, t.token(), t.rootKeyHash(), honest, null, null).registration().endpoint());
  }

  @Test
  void anIdenticalRetryGetsTheSameAnswerWithinTheWindowAndNothingElseDoes() throws Exception {
    JoinToken t = root.orchestration().issueJoinToken("c1", Duration.ofMinutes(10), true);
    WorkerEndpoint ep = endpoint("n1");
    // the node's request as it travelled (captured on the wire), then answered
    Enrolled first = Enrolment.enrol(transport, t.token(), t.rootKeyHash(), ep, null, new byte[] {1});
    EnrolRequest sent = wire.stream().filter(m -> m instanceof EnrolRequest).map(m -> (EnrolRequest) m).findFirst().orElseThrow();
    // the reply was lost: the node sends the very same request again and gets the same answer
    ControlMessage again = request(sent);
    assertTrue(again instanceof EnrolReply, again.toString());
    assertEquals(first.signedRegistration().serial(), ((EnrolReply) again).registration().serial());
    assertEquals(1L, enrolment.stats().get("repeated"));
    assertEquals(1, root.orchestration().nodes().size());
    // anything altered (another location) with the used token is refused
    ControlMessage altered = request(new EnrolRequest(sent.tokenId(), sent.endpoint(), GeoPoint.of(1, 1), sent.mqttPublicKey(),
        sent.rootKeyHash(), sent.proof()));
    assertTrue(altered instanceof ErrorReply && ((ErrorReply) altered).reason().contains("already used"), altered.toString());
    // after the retry window even the identical request is refused
    time.advance(EnrolmentService.DEFAULT_RETRY_WINDOW.plusSeconds(1));
    ControlMessage late = request(sent);
    assertTrue(late instanceof ErrorReply && ((ErrorReply) late).reason().contains("already used"), late.toString());
    assertEquals(first.registration(), root.orchestration().node("n1"));
  }

  private ControlMessage request(EnrolRequest r) throws Exception {
    try (ClientChannel c = transport.connect(Enrolment.DEFAULT_SERVICE_ID, r.endpoint().nodeId(), p -> {})) {
      return c.request(r, Duration.ofSeconds(5)).toCompletableFuture().get(5, TimeUnit.SECONDS);
    }
  }

  private byte[] captureProof(JoinToken t, WorkerEndpoint ep) {
    InProcessTransport spy = InProcessTransport.builder().build();
    List<EnrolRequest> seen = new CopyOnWriteArrayList<>();
    spy.bind(Enrolment.DEFAULT_SERVICE_ID, (client, m) -> {
      seen.add((EnrolRequest) m);
      return java.util.concurrent.CompletableFuture.completedFuture(new ErrorReply("captured"));
    });
    assertThrows(EnrolmentException.class, () -> Enrolment.enrol(spy, t.token(), t.rootKeyHash(), ep, null, null));
    spy.close();
    return seen.get(0).proof();
  }

  @Test
  void aSubstitutedRootIsDetected() {
    JoinToken t = root.orchestration().issueJoinToken("c1", Duration.ofMinutes(10), false);
    // a rogue root, with its own key, answers on another transport the node was pointed at
    InProcessTransport rogueNet = InProcessTransport.create();
    RootAuthority rogueKey = RootAuthority.generate();
    ServiceManager rogue = ServiceManager.root().id("root").transport(rogueNet).authority(rogueKey).plan(ControlPlaneBehaviourTest.PLAN)
        .policyRegistry(TestPolicies.registry()).platformPolicies(Set.of("first")).maintenanceInterval(Duration.ZERO).build();
    EnrolmentService rogueService = EnrolmentService.bind(rogue, rogueNet);
    try {
      // even if it learnt the token (here: it issues one with the same shape), the pin fails
      JoinToken rt = rogue.orchestration().issueJoinToken("c1", Duration.ofMinutes(10), false);
      EnrolmentException e = assertThrows(EnrolmentException.class,
          () -> Enrolment.enrol(rogueNet, rt.token(), t.rootKeyHash(), endpoint("n1"), null, null));
      assertTrue(e.getMessage().contains("pinned") || e.getMessage().contains("root"), e.getMessage());
    } finally {
      rogueService.close();
      rogue.close();
      rogueNet.close();
    }
  }

  @Test
  void renewalExtendsTheCertificateOnlyForTheNodeItself() {
    JoinToken t = root.orchestration().issueJoinToken("c1", Duration.ofMinutes(10), true);
    Enrolled e = Enrolment.enrol(transport, t.token(), t.rootKeyHash(), endpoint("n1"), null, null);
    time.advance(Duration.ofHours(17));
    Enrolled r = Enrolment.renew(transport, e, null);
    assertTrue(r.signedRegistration().notAfter().isAfter(e.signedRegistration().notAfter()));
    assertEquals(e.registration().subnetV4(), r.registration().subnetV4());
    assertEquals(r.registration(), root.orchestration().node("n1"));

    time.advance(Duration.ofHours(25));
    EnrolmentException late = assertThrows(EnrolmentException.class, () -> Enrolment.renew(transport, r, null));
    assertEquals(r.registration(), root.orchestration().node("n1"));
    assertTrue(late.getMessage().contains("expired"), late.getMessage());
  }
}
