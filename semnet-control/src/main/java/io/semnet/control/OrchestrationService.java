package io.semnet.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semnet.control.internal.OrchestrationOps;
import io.semnet.core.record.Locator;
import io.semnet.core.service.ServiceId;
import io.semnet.resolver.internal.EnrolmentProof;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.ErrorReply;
import io.semnet.resolver.protocol.OrchestrationCall;
import io.semnet.resolver.protocol.OrchestrationResult;
import io.semnet.resolver.protocol.WireCodec;
import io.semnet.resolver.protocol.internal.Json;
import io.semnet.resolver.transport.ControlTransport;
import io.semnet.resolver.transport.ServerBinding;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The root's orchestration API on the control transport (id {@link #DEFAULT_ID} unless given),
 * for {@link RemoteOrchestration} clients. Each {@link OrchestrationCall} must be signed (Ed25519)
 * by one of the configured orchestrator keys and carry a nonce, an expiry (at most
 * {@link Builder#maxValidity} ahead, default 2 min) and an idempotency id. Refused with a reason
 * and without effect: unknown key, bad signature, expired or too far in the future, nonce seen with
 * another id, malformed body. A (key, id) seen before is not executed again: the first result (or
 * error) is answered, so neither a broker replaying a message nor a client retrying after a
 * timeout repeats an operation. The idempotency cache keeps every id until its expiry and holds at
 * most {@link Builder#capacity} entries (default 10,000); when full, new calls are refused ("busy")
 * rather than forgetting ids that could still be replayed. Then the operation runs on the root's
 * {@link Orchestration} with the same semantics (errors change nothing). Thread-safe (serialised).
 */
public final class OrchestrationService implements AutoCloseable {
  /** The id the service binds by default. */
  public static final String DEFAULT_ID = "orchestration";
  private static final Logger log = LoggerFactory.getLogger(OrchestrationService.class);

  private final Orchestration orchestration;
  private final Map<String, PublicKey> trusted = new HashMap<>();
  private final Clock clock;
  private final long maxValidityMillis;
  private final int capacity;
  private final Map<String, Done> done = new LinkedHashMap<>();
  private final Map<String, String> nonces = new HashMap<>();
  private final Map<String, Long> counters = new TreeMap<>();
  private final ServerBinding binding;
  private final EventSubscriptions events;

  private record Done(ControlMessage reply, long expires) {}

  private OrchestrationService(Builder b) {
    this.orchestration = Objects.requireNonNull(b.orchestration, "orchestration");
    this.clock = b.clock;
    this.maxValidityMillis = b.maxValidity.toMillis();
    this.capacity = b.capacity;
    for (byte[] k : b.keys) {
      try {
        trusted.put(EnrolmentProof.keyHash(k), KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(k)));
      } catch (java.security.GeneralSecurityException e) {
        throw new IllegalArgumentException("not an Ed25519 public key", e);
      }
    }
    if (trusted.isEmpty()) {
      throw new IllegalArgumentException("trust at least one orchestrator key");
    }
    this.binding = Objects.requireNonNull(b.transport, "transport").bind(b.id, this::onRequest);
    this.events = b.nodeEvents == null ? null : new EventSubscriptions(b.nodeEvents, binding, clock);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Counters by outcome: {@code executed}, {@code repeated}, {@code refused}, {@code failed}. */
  public synchronized Map<String, Long> stats() {
    return Map.copyOf(counters);
  }

  private void count(String what) {
    counters.merge(what, 1L, Long::sum);
  }

  private synchronized CompletionStage<ControlMessage> onRequest(String clientId, ControlMessage request) {
    return CompletableFuture.completedFuture(handle(clientId, request));
  }

  private ControlMessage handle(String clientId, ControlMessage request) {
    if (!(request instanceof OrchestrationCall)) {
      count("refused");
      return new ErrorReply("the orchestration service takes orchestrate requests only");
    }
    OrchestrationCall call = (OrchestrationCall) request;
    String keyId = EnrolmentProof.keyHash(call.key());
    PublicKey key = trusted.get(keyId);
    byte[] body = call.body().getBytes(StandardCharsets.UTF_8);
    if (key == null) {
      return refuse(clientId, "request signed by an unknown orchestrator key " + keyId);
    }
    if (!OrchestratorKey.verify(key, body, call.signature())) {
      return refuse(clientId, "request signature does not verify");
    }
    JsonNode n;
    String id;
    String nonce;
    long expires;
    try {
      n = Json.MAPPER.readTree(body);
      id = Json.text(n, "id");
      nonce = Json.text(n, "nonce");
      expires = Json.integer(n, "expires");
    } catch (IOException | RuntimeException e) {
      return refuse(clientId, "malformed request body: " + e.getMessage());
    }
    long now = clock.millis();
    purge(now);
    Done prior = done.get(keyId + "/" + id);
    if (prior != null) {
      count("repeated");
      return prior.reply;
    }
    if (expires <= now) {
      return refuse(clientId, "request expired " + (now - expires) + " ms ago");
    }
    if (expires > now + maxValidityMillis) {
      return refuse(clientId, "request expiry lies more than " + maxValidityMillis + " ms ahead");
    }
    if (nonces.containsKey(keyId + "/" + nonce)) {
      return refuse(clientId, "nonce already used by another request");
    }
    if (done.size() >= capacity) {
      return refuse(clientId, "busy: " + capacity + " recent requests remembered; retry later");
    }
    ControlMessage reply;
    try {
      String op = Json.text(n, "op");
      JsonNode args = Json.need(n, "args");
      reply = new OrchestrationResult((op.equals("events") ? events(clientId, args) : execute(op, args)).toString());
      count("executed");
    } catch (OrchestrationException e) {
      reply = new ErrorReply(e.getMessage());
      count("failed");
    } catch (RuntimeException e) {
      reply = new ErrorReply("malformed request: " + e.getMessage());
      count("failed");
    }
    done.put(keyId + "/" + id, new Done(reply, expires));
    nonces.put(keyId + "/" + nonce, id);
    return reply;
  }

  private ControlMessage refuse(String clientId, String reason) {
    count("refused");
    log.warn("orchestration request from '{}' refused: {}", clientId, reason);
    return new ErrorReply(reason);
  }

  private void purge(long now) {
    var it = done.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<String, Done> e = it.next();
      if (e.getValue().expires < now) {
        it.remove();
        nonces.values().remove(e.getKey().substring(e.getKey().indexOf('/') + 1));
      }
    }
  }

  private JsonNode execute(String op, JsonNode a) {
    Orchestration o = orchestration;
    ObjectNode none = Json.obj();
    switch (op) {
      case "registerNode":
        return WireCodec.toJson(o.registerNode(Json.text(a, "cluster"), WireCodec.workerEndpoint(Json.need(a, "endpoint")),
            Json.geo(a.get("location"))));
      case "deregisterNode":
        o.deregisterNode(Json.text(a, "node"));
        return none;
      case "node": {
        var r = o.node(Json.text(a, "node"));
        return r == null ? none : Json.obj().set("node", WireCodec.toJson(r));
      }
      case "nodes":
        return OrchestrationOps.nodes(o.nodes());
      case "issueJoinToken":
        return OrchestrationOps.token(o.issueJoinToken(Json.text(a, "cluster"), Duration.ofMillis(Json.integer(a, "ttlMillis")),
            Json.bool(a, "oneTime")));
      case "platformPolicies": {
        ObjectNode r = Json.obj();
        o.platformPolicies().stream().sorted().forEach(r.putArray("policies")::add);
        return r;
      }
      case "record":
        return OrchestrationOps.record(o.record(service(a)));
      case "deploy":
        return OrchestrationOps.record(o.deploy(OrchestrationOps.descriptor(Json.need(a, "descriptor"))));
      case "scale":
        return OrchestrationOps.record(o.scale(service(a), (int) Json.integer(a, "instances")));
      case "placeInstance":
        return OrchestrationOps.record(o.placeInstance(service(a), ordinal(a), WireCodec.locator(Json.need(a, "locator")),
            Json.has(a, "metadata") ? Json.metadata(a.get("metadata")) : null));
      case "placeInstances": {
        Map<Integer, Locator> p = new TreeMap<>();
        for (JsonNode e : Json.array(a, "placements")) {
          p.put(ordinal(e), WireCodec.locator(Json.need(e, "locator")));
        }
        return OrchestrationOps.record(o.placeInstances(service(a), p));
      }
      case "migrate":
        return OrchestrationOps.record(o.migrate(service(a), ordinal(a), WireCodec.locator(Json.need(a, "locator"))));
      case "updateCapacity":
        return OrchestrationOps.record(o.updateCapacity(service(a), ordinal(a), Json.number(a, "capacity")));
      case "unplaceInstance":
        return OrchestrationOps.record(o.unplaceInstance(service(a), ordinal(a)));
      case "remove":
        o.remove(service(a));
        return none;
      case "grant":
        return OrchestrationOps.rules(o.grant(Json.grant(Json.need(a, "grant"))));
      case "revoke":
        return OrchestrationOps.rules(o.revoke(Json.grant(Json.need(a, "grant"))));
      case "isolationRules":
        return OrchestrationOps.rules(o.isolationRules());
      default:
        throw new OrchestrationException("unknown operation '" + op + "'");
    }
  }

  private JsonNode events(String clientId, JsonNode args) {
    if (events == null) {
      throw new OrchestrationException("this orchestration service has no node events");
    }
    return events.subscribe(clientId, args);
  }

  private static ServiceId service(JsonNode a) {
    return ServiceId.parse(Json.text(a, "service"));
  }

  private static int ordinal(JsonNode a) {
    long o = Json.integer(a, "ordinal");
    if (o < 0 || o > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("ordinal out of range");
    }
    return (int) o;
  }

  @Override
  public void close() {
    if (events != null) {
      events.close();
    }
    binding.close();
  }

  /** Configures an {@link OrchestrationService}. */
  public static final class Builder {
    private Orchestration orchestration;
    private ControlTransport transport;
    private String id = DEFAULT_ID;
    private final List<byte[]> keys = new ArrayList<>();
    private Clock clock = Clock.systemUTC();
    private Duration maxValidity = Duration.ofMinutes(2);
    private int capacity = 10_000;
    private NodeEventLog nodeEvents;

    private Builder() {}

    /**
     * The root's liveness events ({@code root.nodeEvents()}): orchestrators subscribe with the
     * signed {@code events} call ({@link RemoteOrchestration#subscribeNodeEvents}). Without it that
     * call is refused.
     */
    public Builder nodeEvents(NodeEventLog log) {
      this.nodeEvents = log;
      return this;
    }

    /** The root's orchestration ({@code root.orchestration()}). Required. */
    public Builder orchestration(Orchestration orchestration) {
      this.orchestration = orchestration;
      return this;
    }

    /** The transport to bind on. Required. */
    public Builder transport(ControlTransport transport) {
      this.transport = transport;
      return this;
    }

    /** The id to bind as (default {@link #DEFAULT_ID}). */
    public Builder id(String id) {
      this.id = Objects.requireNonNull(id, "id");
      return this;
    }

    /** Trusts an orchestrator's public key ({@link OrchestratorKey#publicKey()}); at least one. */
    public Builder trust(byte[] orchestratorPublicKey) {
      keys.add(orchestratorPublicKey.clone());
      return this;
    }

    /** How far ahead a request's expiry may lie (default 2 min); bounds the idempotency cache's memory. */
    public Builder maxValidity(Duration maxValidity) {
      this.maxValidity = Objects.requireNonNull(maxValidity, "maxValidity");
      return this;
    }

    /** Most requests remembered at once (default 10,000). */
    public Builder capacity(int capacity) {
      if (capacity < 1) {
        throw new IllegalArgumentException("capacity must be >= 1");
      }
      this.capacity = capacity;
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    public OrchestrationService build() {
      return new OrchestrationService(this);
    }
  }
}
