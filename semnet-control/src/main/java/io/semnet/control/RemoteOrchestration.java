package io.semnet.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semnet.control.internal.OrchestrationOps;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.isolation.Grant;
import io.semnet.core.isolation.IsolationRules;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceMetadata;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.resolver.NodeRegistration;
import io.semnet.resolver.enrol.JoinToken;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.ErrorReply;
import io.semnet.resolver.protocol.OrchestrationCall;
import io.semnet.resolver.protocol.OrchestrationResult;
import io.semnet.resolver.protocol.WireCodec;
import io.semnet.resolver.protocol.internal.Json;
import io.semnet.resolver.transport.ClientChannel;
import io.semnet.resolver.transport.ControlTransport;
import io.semnet.resolver.transport.TransportException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;

/**
 * The {@link Orchestration} API of a root in another process, over the control transport, with
 * the same semantics as the root's own object: each call is one {@link OrchestrationCall} to the
 * root's {@link OrchestrationService}, signed with the orchestrator's {@link OrchestratorKey} and
 * carrying a fresh nonce, an expiry ({@link Builder#validity}, default 1 min) and an idempotency
 * id. A call that gets no answer in time is sent again with the same id and signature (up to
 * {@link Builder#attempts} times), so the root executes it at most once and the client still gets
 * its result; if all attempts fail it throws {@link TransportException} and the operation may or
 * may not have happened (read the state back, e.g. {@link #record}). A refusal or a failed
 * operation throws {@link OrchestrationException} with the root's reason; nothing changed.
 * Calls block. Thread-safe.
 *
 * <pre>{@code
 * Orchestration o = RemoteOrchestration.builder().transport(mqtt).clientId("orchestrator-1")
 *     .key(OrchestratorKey.of(keyPair)).build();
 * ServiceRecord r = o.deploy(ServiceDescriptor.builder(service).instances(2).build());
 * }</pre>
 */
public final class RemoteOrchestration implements Orchestration, AutoCloseable {
  private final ClientChannel channel;
  private final OrchestratorKey key;
  private final Clock clock;
  private final Duration timeout;
  private final Duration validity;
  private final int attempts;
  private final SecureRandom random = new SecureRandom();
  private final Duration eventRenewal;
  private volatile EventFeed feed;

  private RemoteOrchestration(Builder b) {
    this.key = Objects.requireNonNull(b.key, "key");
    this.clock = b.clock;
    this.timeout = b.timeout;
    this.validity = b.validity;
    this.attempts = b.attempts;
    this.eventRenewal = b.eventRenewal;
    this.channel = Objects.requireNonNull(b.transport, "transport").connect(b.serviceId, Objects.requireNonNull(b.clientId, "clientId"),
        this::onPush);
  }

  /**
   * Subscribes to the root's liveness events ({@link NodeEvent}: node down, node up, instance
   * unreachable) numbered after {@code after} (0: all the root still keeps). The listener gets each
   * event once, in number order: pushed at once, and caught up by a signed call every
   * {@link Builder#eventRenewal} (default 5 s), which also keeps the subscription alive at the root,
   * so nothing is missed across a reconnect or a root failover while the root still keeps it (else
   * {@link NodeEventListener#onGap}). One subscription per client: a new one replaces the previous.
   *
   * @return closing it ends the subscription (the root forgets it after 30 s)
   */
  public AutoCloseable subscribeNodeEvents(long after, NodeEventListener listener) {
    Objects.requireNonNull(listener, "listener");
    EventFeed f = new EventFeed(a -> call("events", args().put("after", a)), after, listener, eventRenewal);
    EventFeed old = feed;
    feed = f;
    if (old != null) {
      old.close();
    }
    return () -> {
      f.close();
      if (feed == f) {
        feed = null;
      }
    };
  }

  private void onPush(ControlMessage push) {
    EventFeed f = feed;
    if (f == null || !(push instanceof OrchestrationResult)) {
      return;
    }
    try {
      f.onPush(Json.MAPPER.readTree(((OrchestrationResult) push).body()));
    } catch (IOException | RuntimeException e) {
      org.slf4j.LoggerFactory.getLogger(RemoteOrchestration.class).warn("malformed node event push: {}", e.getMessage());
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The signed request for {@code op} (exposed for tests of replay protection). */
  OrchestrationCall sign(String op, ObjectNode args) {
    byte[] nonce = new byte[16];
    random.nextBytes(nonce);
    ObjectNode body = Json.obj();
    body.put("op", op);
    body.set("args", args);
    body.put("nonce", Base64.getEncoder().encodeToString(nonce));
    body.put("expires", clock.millis() + validity.toMillis());
    body.put("id", UUID.randomUUID().toString());
    String text = body.toString();
    return new OrchestrationCall(text, key.publicKey(), key.sign(text.getBytes(StandardCharsets.UTF_8)));
  }

  /** Sends a signed call (retrying it unchanged on transport failures) and returns the result body. */
  JsonNode send(OrchestrationCall call) {
    TransportException last = null;
    for (int i = 0; i < attempts; i++) {
      ControlMessage reply;
      try {
        reply = channel.request(call, timeout).toCompletableFuture().get();
      } catch (ExecutionException e) {
        Throwable c = e.getCause();
        last = c instanceof TransportException ? (TransportException) c : new TransportException(String.valueOf(c.getMessage()), c);
        continue;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new TransportException("interrupted", e);
      }
      if (reply instanceof ErrorReply) {
        throw new OrchestrationException(((ErrorReply) reply).reason());
      }
      if (!(reply instanceof OrchestrationResult)) {
        throw new OrchestrationException("unexpected answer " + reply.type());
      }
      try {
        return Json.MAPPER.readTree(((OrchestrationResult) reply).body());
      } catch (IOException e) {
        throw new OrchestrationException("malformed result: " + e.getMessage(), e);
      }
    }
    throw last;
  }

  private JsonNode call(String op, ObjectNode args) {
    return send(sign(op, args));
  }

  private static ObjectNode args() {
    return Json.obj();
  }

  private ServiceRecord recordCall(String op, ObjectNode args) {
    ServiceRecord r = OrchestrationOps.record(call(op, args));
    if (r == null) {
      throw new OrchestrationException("the root answered " + op + " without a record");
    }
    return r;
  }

  @Override
  public NodeRegistration registerNode(String clusterId, WorkerEndpoint endpoint, GeoPoint location) {
    ObjectNode a = args().put("cluster", clusterId);
    a.set("endpoint", WireCodec.toJson(endpoint));
    if (location != null) {
      a.set("location", Json.geo(location));
    }
    return WireCodec.nodeRegistration(call("registerNode", a));
  }

  @Override
  public void deregisterNode(String nodeId) {
    call("deregisterNode", args().put("node", nodeId));
  }

  @Override
  public NodeRegistration node(String nodeId) {
    JsonNode r = call("node", args().put("node", nodeId));
    return Json.has(r, "node") ? WireCodec.nodeRegistration(r.get("node")) : null;
  }

  @Override
  public List<NodeRegistration> nodes() {
    return OrchestrationOps.nodes(call("nodes", args()));
  }

  @Override
  public JoinToken issueJoinToken(String clusterId, Duration ttl, boolean oneTime) {
    return OrchestrationOps.token(call("issueJoinToken", args().put("cluster", clusterId).put("ttlMillis", ttl.toMillis()).put("oneTime", oneTime)));
  }

  @Override
  public Set<String> platformPolicies() {
    Set<String> s = new HashSet<>();
    Json.array(call("platformPolicies", args()), "policies").forEach(p -> s.add(p.asText()));
    return Set.copyOf(s);
  }

  @Override
  public ServiceRecord record(ServiceId service) {
    return OrchestrationOps.record(call("record", args().put("service", service.toString())));
  }

  @Override
  public ServiceRecord deploy(ServiceDescriptor descriptor) {
    ObjectNode a = args();
    a.set("descriptor", OrchestrationOps.descriptor(descriptor));
    return recordCall("deploy", a);
  }

  @Override
  public ServiceRecord scale(ServiceId service, int instances) {
    return recordCall("scale", args().put("service", service.toString()).put("instances", instances));
  }

  @Override
  public ServiceRecord placeInstance(ServiceId service, int ordinal, Locator locator, InstanceMetadata metadata) {
    ObjectNode a = args().put("service", service.toString()).put("ordinal", ordinal);
    a.set("locator", WireCodec.toJson(locator));
    if (metadata != null) {
      a.set("metadata", Json.metadata(metadata));
    }
    return recordCall("placeInstance", a);
  }

  @Override
  public ServiceRecord placeInstances(ServiceId service, Map<Integer, Locator> placements) {
    ObjectNode a = args().put("service", service.toString());
    ArrayNode p = a.putArray("placements");
    placements.forEach((o, l) -> p.addObject().put("ordinal", o).set("locator", WireCodec.toJson(l)));
    return recordCall("placeInstances", a);
  }

  @Override
  public ServiceRecord migrate(ServiceId service, int ordinal, Locator newLocator) {
    ObjectNode a = args().put("service", service.toString()).put("ordinal", ordinal);
    a.set("locator", WireCodec.toJson(newLocator));
    return recordCall("migrate", a);
  }

  @Override
  public ServiceRecord updateCapacity(ServiceId service, int ordinal, double capacity) {
    return recordCall("updateCapacity", args().put("service", service.toString()).put("ordinal", ordinal).put("capacity", capacity));
  }

  @Override
  public ServiceRecord unplaceInstance(ServiceId service, int ordinal) {
    return recordCall("unplaceInstance", args().put("service", service.toString()).put("ordinal", ordinal));
  }

  @Override
  public void remove(ServiceId service) {
    call("remove", args().put("service", service.toString()));
  }

  @Override
  public IsolationRules grant(Grant grant) {
    ObjectNode a = args();
    a.set("grant", Json.grant(grant));
    return OrchestrationOps.rules(call("grant", a));
  }

  @Override
  public IsolationRules revoke(Grant grant) {
    ObjectNode a = args();
    a.set("grant", Json.grant(grant));
    return OrchestrationOps.rules(call("revoke", a));
  }

  @Override
  public IsolationRules isolationRules() {
    return OrchestrationOps.rules(call("isolationRules", args()));
  }

  @Override
  public void close() {
    EventFeed f = feed;
    if (f != null) {
      f.close();
    }
    channel.close();
  }

  /** Configures a {@link RemoteOrchestration}. */
  public static final class Builder {
    private ControlTransport transport;
    private String serviceId = OrchestrationService.DEFAULT_ID;
    private String clientId;
    private OrchestratorKey key;
    private Clock clock = Clock.systemUTC();
    private Duration timeout = Duration.ofSeconds(10);
    private Duration validity = Duration.ofMinutes(1);
    private int attempts = 3;
    private Duration eventRenewal = Duration.ofSeconds(5);

    private Builder() {}

    /** How often a node-event subscription catches up and renews itself at the root (default 5 s). */
    public Builder eventRenewal(Duration renewal) {
      if (renewal.isNegative() || renewal.isZero()) {
        throw new IllegalArgumentException("eventRenewal must be > 0");
      }
      this.eventRenewal = renewal;
      return this;
    }

    /** The transport to the root. Required. */
    public Builder transport(ControlTransport transport) {
      this.transport = transport;
      return this;
    }

    /** The id the root's {@link OrchestrationService} is bound as (default {@link OrchestrationService#DEFAULT_ID}). */
    public Builder serviceId(String serviceId) {
      this.serviceId = Objects.requireNonNull(serviceId, "serviceId");
      return this;
    }

    /** This orchestrator's client id on the transport (its MQTT identity). Required. */
    public Builder clientId(String clientId) {
      this.clientId = clientId;
      return this;
    }

    /** The key calls are signed with (the root must trust its public key). Required. */
    public Builder key(OrchestratorKey key) {
      this.key = key;
      return this;
    }

    /** Time to wait for one answer (default 10 s). */
    public Builder timeout(Duration timeout) {
      this.timeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /** How long a signed call stays valid (default 1 min; the root refuses more than its own maximum). */
    public Builder validity(Duration validity) {
      this.validity = Objects.requireNonNull(validity, "validity");
      return this;
    }

    /** Sends of one call before giving up on transport failures (default 3). */
    public Builder attempts(int attempts) {
      if (attempts < 1) {
        throw new IllegalArgumentException("attempts must be >= 1");
      }
      this.attempts = attempts;
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    public RemoteOrchestration build() {
      return new RemoteOrchestration(this);
    }
  }
}
