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
 * is consumed only by a successful enrolment. An identical repeat of a successful enrolment (same
 * token, node, keys, endpoint, location and proof: a retry after a lost reply) within the retry
 * window (default {@link #DEFAULT_RETRY_WINDOW}) is answered with the same reply and changes
 * nothing; after the window, or with anything altered, the used token is refused. A renewal is accepted only from the authenticated
 * client id of the node itself while its certificate is valid. Counters by outcome:
 * {@link #stats()}. Thread-safe (requests are serialised).
 */
public final class EnrolmentService implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EnrolmentService.class);
  /** How long an identical repeated enrolment is answered with the first answer. */
  public static final java.time.Duration DEFAULT_RETRY_WINDOW = java.time.Duration.ofSeconds(60);
  private static final int MAX_ANSWERED = 10_000;

  private final RootOrchestration orchestration;
  private final ClientCertificateIssuer issuer;
  private final ServerBinding binding;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, AtomicLong> stats = new ConcurrentHashMap<>();
  /** Successful enrolments by token id, kept for the retry window (guarded by this). */
  private final Map<String, Answered> answered = new java.util.LinkedHashMap<>();
  private final java.time.Duration retryWindow;

  private record Answered(EnrolRequest request, ControlMessage reply, Instant until) {}

  private EnrolmentService(ServiceManager root, ControlTransport transport, String id, ClientCertificateIssuer issuer,
      java.time.Duration retryWindow) {
    if (root.orchestration == null) {
      throw new IllegalArgumentException("enrolment is served by the root manager only");
    }
    this.orchestration = root.orchestration;
    this.issuer = issuer;
    this.retryWindow = retryWindow;
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
    return bind(root, transport, id, issuer, DEFAULT_RETRY_WINDOW);
  }

  /**
   * As {@link #bind(ServiceManager, ControlTransport, String, ClientCertificateIssuer)}, answering an
   * identical repeated enrolment with the first answer for {@code retryWindow} (zero: never).
   */
  public static EnrolmentService bind(ServiceManager root, ControlTransport transport, String id, ClientCertificateIssuer issuer,
      java.time.Duration retryWindow) {
    Objects.requireNonNull(root, "root");
    Objects.requireNonNull(transport, "transport");
    Objects.requireNonNull(id, "id");
    if (retryWindow == null || retryWindow.isNegative()) {
      throw new IllegalArgumentException("retry window must be zero or positive: " + retryWindow);
    }
    return new EnrolmentService(root, transport, id, issuer, retryWindow);
  }

  /** Outcome counters: {@code enrolled}, {@code repeated}, {@code renewed}, {@code refused}, {@code malformed}. */
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
        ControlMessage repeat = repeated((EnrolRequest) request);
        if (repeat != null) {
          count("repeated");
          return CompletableFuture.completedFuture(repeat);
        }
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
    remember(request, reply);
    log.info("node '{}' enrolled in cluster '{}' with join token '{}'", reg.nodeId(), reg.clusterId(), token.id());
    return reply;
  }

  /** The first answer to an identical earlier enrolment still in the retry window, or null. */
  private ControlMessage repeated(EnrolRequest r) {
    Instant now = orchestration.clock.instant();
    answered.values().removeIf(a -> !now.isBefore(a.until()));
    Answered a = answered.get(r.tokenId());
    if (a == null) {
      return null;
    }
    EnrolRequest first = a.request();
    boolean same = first.endpoint().equals(r.endpoint()) && Objects.equals(first.location(), r.location())
        && java.util.Arrays.equals(first.mqttPublicKey(), r.mqttPublicKey()) && first.rootKeyHash().equals(r.rootKeyHash())
        && java.security.MessageDigest.isEqual(first.proof(), r.proof());
    return same ? a.reply() : null;
  }

  private void remember(EnrolRequest request, ControlMessage reply) {
    if (retryWindow.isZero()) {
      return;
    }
    if (answered.size() >= MAX_ANSWERED) {
      answered.remove(answered.keySet().iterator().next());
    }
    answered.put(request.tokenId(), new Answered(request, reply, orchestration.clock.instant().plus(retryWindow)));
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
