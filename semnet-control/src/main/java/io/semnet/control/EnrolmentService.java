package io.semnet.control;

import io.semnet.resolver.NodeRegistration;
import io.semnet.resolver.enrol.Enrolment;
import io.semnet.resolver.enrol.JoinToken;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.EnrolReply;
import io.semnet.resolver.protocol.EnrolRequest;
import io.semnet.resolver.protocol.ErrorReply;
import io.semnet.resolver.protocol.RenewRegistration;
import io.semnet.resolver.protocol.SignedRegistration;
import io.semnet.resolver.transport.ControlTransport;
import io.semnet.resolver.transport.ServerBinding;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The root's enrolment service, bound on the control transport (id {@link Enrolment#DEFAULT_SERVICE_ID}
 * unless given): answers {@link EnrolRequest}s of joining nodes and {@link RenewRegistration}s of
 * enrolled ones with a {@link SignedRegistration} (serial, notBefore, notAfter = the tunnel-key
 * certificate's expiry, registration, address plan, manager id) and, if an issuer is configured and
 * the node sent a key, an MQTT client certificate.
 *
 * <p>An enrolment is refused, with a clear reason and no change at the root, when the token is
 * unknown, expired, already used (one-time), pinned to another root, or its proof does not match
 * the request (wrong secret, keys or endpoint altered by a party in the middle); also when the
 * registration itself is refused (e.g. the node id is registered with other keys). A one-time token
 * is consumed only by a successful enrolment. A renewal is accepted only from the authenticated
 * client id of the node itself while its certificate is valid. Counters by outcome:
 * {@link #stats()}. Thread-safe (requests are serialised).
 */
public final class EnrolmentService implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EnrolmentService.class);

  private final RootOrchestration orchestration;
  private final ClientCertificateIssuer issuer;
  private final ServerBinding binding;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, AtomicLong> stats = new ConcurrentHashMap<>();

  private EnrolmentService(ServiceManager root, ControlTransport transport, String id, ClientCertificateIssuer issuer) {
    if (root.orchestration == null) {
      throw new IllegalArgumentException("enrolment is served by the root manager only");
    }
    this.orchestration = root.orchestration;
    this.issuer = issuer;
    this.binding = transport.bind(id, this::onRequest);
  }

  /** Binds the enrolment service of {@code root} as {@link Enrolment#DEFAULT_SERVICE_ID}, without MQTT certificates. */
  public static EnrolmentService bind(ServiceManager root, ControlTransport transport) {
    return bind(root, transport, Enrolment.DEFAULT_SERVICE_ID, null);
  }

  /**
   * Binds the enrolment service of {@code root} as {@code id} on {@code transport}.
   *
   * @param issuer issues MQTT client certificates, or null for none
   */
  public static EnrolmentService bind(ServiceManager root, ControlTransport transport, String id, ClientCertificateIssuer issuer) {
    Objects.requireNonNull(root, "root");
    Objects.requireNonNull(transport, "transport");
    Objects.requireNonNull(id, "id");
    return new EnrolmentService(root, transport, id, issuer);
  }

  /** Outcome counters: {@code enrolled}, {@code renewed}, {@code refused}, {@code malformed}. */
  public Map<String, Long> stats() {
    Map<String, Long> m = new java.util.TreeMap<>();
    stats.forEach((k, v) -> m.put(k, v.get()));
    return m;
  }

  private void count(String what) {
    stats.computeIfAbsent(what, k -> new AtomicLong()).incrementAndGet();
  }

  private synchronized CompletionStage<ControlMessage> onRequest(String clientId, ControlMessage request) {
    try {
      if (request instanceof EnrolRequest) {
        ControlMessage r = enrol((EnrolRequest) request);
        count("enrolled");
        return CompletableFuture.completedFuture(r);
      }
      if (request instanceof RenewRegistration) {
        ControlMessage r = renew(clientId, (RenewRegistration) request);
        count("renewed");
        return CompletableFuture.completedFuture(r);
      }
      count("malformed");
      return CompletableFuture.completedFuture(new ErrorReply("the enrolment service takes enrol and renew-registration requests only"));
    } catch (OrchestrationException | IllegalArgumentException e) {
      count("refused");
      log.warn("enrolment request from '{}' refused: {}", clientId, e.getMessage());
      return CompletableFuture.completedFuture(new ErrorReply(e.getMessage()));
    }
  }

  private ControlMessage enrol(EnrolRequest request) {
    JoinToken token = orchestration.joinTokens.check(request);
    boolean existed = orchestration.node(request.endpoint().nodeId()) != null;
    NodeRegistration reg = orchestration.registerNode(token.clusterId(), request.endpoint(), request.location());
    ControlMessage reply;
    try {
      reply = reply(reg, request.mqttPublicKey());
    } catch (RuntimeException e) {
      if (!existed) {
        orchestration.deregisterNode(reg.nodeId());
      }
      throw new OrchestrationException("cannot issue the registration of '" + reg.nodeId() + "': " + e.getMessage(), e);
    }
    orchestration.joinTokens.consume(token);
    log.info("node '{}' enrolled in cluster '{}' with join token '{}'", reg.nodeId(), reg.clusterId(), token.id());
    return reply;
  }

  private ControlMessage renew(String clientId, RenewRegistration request) {
    if (!clientId.equals(request.nodeId())) {
      throw new OrchestrationException("client '" + clientId + "' may renew only its own registration, not '" + request.nodeId() + "'");
    }
    return reply(orchestration.renewCertificate(request.nodeId()), request.mqttPublicKey());
  }

  private EnrolReply reply(NodeRegistration reg, byte[] mqttKey) {
    if (reg.certificate() == null) {
      throw new OrchestrationException("node '" + reg.nodeId() + "' has no tunnel key; enrolment certifies keys");
    }
    Instant notAfter = reg.certificate().notAfter();
    Instant notBefore = orchestration.clock.instant();
    long serial;
    do {
      serial = random.nextLong() & Long.MAX_VALUE;
    } while (serial == 0);
    SignedRegistration signed = SignedRegistration.sign(orchestration.authority, serial, notBefore, notAfter, reg, orchestration.plan);
    byte[] cert = issuer == null || mqttKey == null ? null
        : issuer.issue(reg.nodeId(), mqttKey, reg.certificate().serial(), notBefore, notAfter);
    return new EnrolReply(signed, cert);
  }

  @Override
  public void close() {
    binding.close();
  }
}
