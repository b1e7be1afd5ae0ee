package io.semnet.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.control.EnrolmentService;
import io.semnet.control.Orchestration;
import io.semnet.control.OrchestrationService;
import io.semnet.control.OrchestratorKey;
import io.semnet.control.RemoteOrchestration;
import io.semnet.control.ServiceDescriptor;
import io.semnet.control.ServiceManager;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RootAuthority;
import io.semnet.mqtt.internal.MosquittoAcl;
import io.semnet.resolver.enrol.Enrolled;
import io.semnet.resolver.enrol.Enrolment;
import io.semnet.resolver.enrol.EnrolmentException;
import io.semnet.resolver.enrol.JoinToken;
import io.semnet.resolver.transport.TransportException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Enrolment and the remote orchestration API over a real mosquitto with TLS, client certificates
 * and the generated control-plane ACL: an orchestrator issues a join token and deploys through
 * {@link RemoteOrchestration}; a node enrols with the shared enrolment-only identity; a reused
 * token is refused; the enrolment identity cannot reach the orchestration service.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MqttEnrolmentTest {
  @Test
  void enrolAndOrchestrateOverTlsWithTheControlPlaneAcl(@TempDir Path tmp) throws Exception {
    Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    Path dir = Files.createDirectory(tmp.resolve("pki"));
    TestPki pki = TestPki.create(dir, "ca");
    pki.broker("ca");
    for (String n : List.of("root", "semnet-enrol", "orch")) {
      pki.node(n, "ca");
    }
    Files.writeString(dir.resolve("acl"), MosquittoAcl.forControlPlane("semnet", List.of(), "root", Enrolment.DEFAULT_SERVICE_ID,
        OrchestrationService.DEFAULT_ID, "semnet-enrol"));
    pki.makeReadable();
    String tls = MosquittoBroker.mutualTlsConfig(dir);
    OrchestratorKey key = OrchestratorKey.generate();
    try (MosquittoBroker broker = MosquittoBroker.start(dir, tls);
        MqttTransport rootNet = node(broker, pki, "root");
        MqttTransport enrolNet = node(broker, pki, "semnet-enrol");
        MqttTransport orchNet = node(broker, pki, "orch")) {
      ServiceManager root = ServiceManager.root().id("root").transport(rootNet).authority(RootAuthority.generate())
          .plan(AddressPlan.defaults()).platformPolicies(Set.of("rr")).maintenanceInterval(Duration.ZERO).build();
      try (EnrolmentService enrol = EnrolmentService.bind(root, rootNet);
          OrchestrationService api = OrchestrationService.builder().orchestration(root.orchestration()).transport(rootNet)
              .trust(key.publicKey()).build();
          RemoteOrchestration remote = RemoteOrchestration.builder().transport(orchNet).clientId("orch").key(key).build()) {
        Orchestration o = remote;
        JoinToken t = retry(() -> o.issueJoinToken("c1", Duration.ofMinutes(5), true));

        byte[] tunnelKey = new byte[32];
        new SecureRandom().nextBytes(tunnelKey);
        WorkerEndpoint ep = WorkerEndpoint.of("w1", new InetSocketAddress("192.0.2.9", 51820), tunnelKey);
        Enrolled e = retry(() -> Enrolment.enrol(enrolNet, t.token(), t.rootKeyHash(), ep, null, null));
        assertEquals("c1", e.managerId());
        assertEquals(e.registration(), o.node("w1"));

        EnrolmentException reused = assertThrows(EnrolmentException.class,
            () -> Enrolment.enrol(enrolNet, t.token(), t.rootKeyHash(), WorkerEndpoint.of("w2", ep.address(), tunnelKey), null, null));
        assertTrue(reused.getMessage().contains("already used"), reused.getMessage());
        assertNull(o.node("w2"));

        ServiceId sid = ServiceId.of("shop", "prod", "cart", "prod");
        ServiceRecord r = o.deploy(ServiceDescriptor.builder(sid).instances(2).build());
        assertEquals(root.orchestration().record(sid), r);

        // the enrolment-only identity may not talk to the orchestration service (the broker drops it)
        try (RemoteOrchestration sneaky = RemoteOrchestration.builder().transport(enrolNet).clientId("w9").key(key)
            .timeout(Duration.ofSeconds(2)).attempts(1).build()) {
          assertThrows(TransportException.class, () -> sneaky.remove(sid));
        }
        assertEquals(r, root.orchestration().record(sid));
        assertEquals(4L, api.stats().get("executed"), "token, node w1, node w2, deploy; nothing from the enrolment identity");
      } finally {
        root.close();
      }
    }
  }

  private static <T> T retry(java.util.function.Supplier<T> call) throws InterruptedException {
    TransportException last = null;
    for (int i = 0; i < 20; i++) {
      try {
        return call.get();
      } catch (TransportException e) {
        last = e; // presence of the service may not have arrived yet
        Thread.sleep(250);
      }
    }
    throw last;
  }

  private static MqttTransport node(MosquittoBroker broker, TestPki pki, String id) throws Exception {
    return MqttTestSupport.started(MqttTransport.builder().brokerUri(broker.sslUri()).clientId(id)
        .tls(pki.context(id, "ca")).reconnectDelay(Duration.ofMillis(50), Duration.ofMillis(500)));
  }
}
