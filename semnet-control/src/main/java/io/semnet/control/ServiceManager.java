package io.semnet.control;

import io.semnet.control.internal.ClientLimiter;
import io.semnet.control.internal.InterestTable;
import io.semnet.control.internal.Pruner;
import io.semnet.control.internal.RecordIndex;
import io.semnet.resolver.RecordVerifier;

import io.semnet.core.isolation.IsolationRules;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.policy.RoutingPolicy;
import io.semnet.core.policy.RoutingPolicyRegistry;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RootAuthority;
import io.semnet.core.trust.RootTrust;
import io.semnet.resolver.internal.UpstreamLink;
import io.semnet.resolver.protocol.Role;
import io.semnet.resolver.protocol.SignedHeartbeat;
import io.semnet.resolver.protocol.SignedRecord;
import io.semnet.resolver.protocol.SignedRemoval;
import io.semnet.resolver.protocol.SignedRules;
import io.semnet.control.store.RootStore;
import io.semnet.resolver.transport.ControlTransport;
import io.semnet.resolver.transport.ServerBinding;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A service manager: answers table queries of its clients (workers, or cluster managers when it is
 * the root), registers their interests and pushes them every later change of the services they are
 * interested in. One implementation serves both roles of the thesis:
 *
 * <ul>
 *   <li><b>root</b> ({@link #root()}): no upstream, authoritative. It alone allocates addresses and
 *       subnets and stamps record versions, through its {@link Orchestration}; it signs every record,
 *       removal and rule set with the {@link RootAuthority}; it can always answer or say "route not
 *       found".
 *   <li><b>cluster</b> ({@link #cluster()}): serves workers; on a miss it asks its upstream (the root)
 *       the same way and registers its own interest there. It verifies everything it receives with
 *       the root's public key.
 * </ul>
 *
 * <p>Rules implemented (thesis §3.3, §3.6.6–3.6.9): fast resolution then interest registration in one
 * round trip; a cluster that already holds an interest but lacks the asked part of the record
 * forwards without registering again; route-not-found registers nothing; a cluster is interested in
 * every service deployed in it (deployment interest, held by the root on its behalf); answers to a
 * worker keep only the k most relevant instances per policy ({@link RoutingPolicy#rankForPruning});
 * interests expire unless renewed (a worker renews while it uses the route, a cluster while some
 * worker interest lives or the service is deployed in it); no answer or push ever shows a service to
 * a client none of whose hosted services may reach it under the {@link IsolationRules}.
 *
 * <p>Thread-safe. Close it to unbind from the transport and stop its maintenance thread.
 */
public final class ServiceManager implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ServiceManager.class);

  final String id;
  final RecordVerifier verifier;
  final RootAuthority authority;
  private final RoutingPolicyRegistry registry;
  private final ManagerPublishing publishing;
  final Duration interestTtl;
  final Clock clock;
  final Object lock = new Object();
  final RecordIndex records = new RecordIndex();
  final InterestTable interests = new InterestTable();
  final Map<String, ClientInfo> clients = new ConcurrentHashMap<>();
  volatile SignedRules rules;
  volatile io.semnet.resolver.protocol.SignedRevocations revocations = io.semnet.resolver.protocol.SignedRevocations.NONE;
  final ServerBinding binding;
  final UpstreamLink upstream;
  final Set<ServiceId> upstreamInterests = ConcurrentHashMap.newKeySet();
  final RootOrchestration orchestration;
  private final ScheduledExecutorService scheduler;
  private final ClusterUpstream cluster = new ClusterUpstream(this);
  final Heartbeats heartbeats;
  private final NodeEventLog nodeEvents;
  private final NodeLiveness liveness;
  final ManagerLimits limits;
  final ClientLimiter limiter;

  private ServiceManager(Builder b, boolean root) {
    this.id = Objects.requireNonNull(b.id, "id");
    Objects.requireNonNull(b.transport, "transport");
    this.registry = b.registry != null ? b.registry : RoutingPolicyRegistry.getDefaultRegistry();
    this.publishing = new ManagerPublishing(this, new Pruner(registry, b.pruneK));
    this.interestTtl = b.interestTtl;
    this.clock = b.clock;
    this.limits = b.limits;
    this.limiter = new ClientLimiter(limits.requestsPerSecond(), limits.burst(), limits.maxOutstanding(),
        limits.clusterRequestsPerSecond(), limits.clusterBurst(), limits.clusterMaxOutstanding());
    this.heartbeats = new Heartbeats(this, root ? b.authority : null, b.rootEpoch, b.heartbeatValidity);
    if (root) {
      this.authority = Objects.requireNonNull(b.authority, "a root needs its RootAuthority");
      this.verifier = b.verifier != null ? b.verifier : RecordVerifier.of(authority.trust());
      this.upstream = null;
      this.orchestration = new RootOrchestration(publishing, authority, b.plan, b.platformPolicies, registry,
          b.store != null ? b.store : RootStore.inMemory(), clock, b.certificateValidity);
      this.rules = orchestration.currentRules();
      this.revocations = orchestration.revocations.current();
      this.orchestration.republishAll();
    } else {
      this.authority = null;
      if (b.verifier == null && b.trust == null) {
        throw new IllegalArgumentException("a cluster manager needs the root's public key (rootTrust)");
      }
      this.verifier = b.verifier != null ? b.verifier : RecordVerifier.of(b.trust);
      this.orchestration = null;
      this.rules = SignedRules.of(0, IsolationRules.DEFAULT, null);
      this.upstream = new UpstreamLink(b.transport, Objects.requireNonNull(b.upstream, "upstream"), id, Role.CLUSTER,
          b.location, b.requestTimeout, cluster::onUpstreamPush, r -> {
            heartbeats.take(r.heartbeat());
            applyRules(r.rules());
          });
    }
    this.binding = b.transport.bind(id, new ManagerRequests(this)::onRequest);
    this.nodeEvents = root ? new NodeEventLog(orchestration.store, orchestration.eventSequence, clock, NodeEventLog.DEFAULT_CAPACITY) : null;
    this.liveness = new NodeLiveness(this, b.transport, nodeEvents);
    if (b.maintenanceInterval.isZero()) {
      this.scheduler = null;
    } else {
      this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "semnet-manager-" + id);
        t.setDaemon(true);
        return t;
      });
      long ms = b.maintenanceInterval.toMillis();
      scheduler.scheduleWithFixedDelay(this::maintenanceQuietly, ms, ms, TimeUnit.MILLISECONDS);
      if (root && !b.heartbeatInterval.isZero()) {
        long hb = b.heartbeatInterval.toMillis();
        scheduler.scheduleWithFixedDelay(this::heartbeatQuietly, hb, hb, TimeUnit.MILLISECONDS);
      }
    }
    if (root) {
      heartbeats.publish();
    }
    if (upstream != null) {
      upstream.hello();
    }
  }

  /** Builder for the root (authoritative) manager. */
  public static Builder root() {
    return new Builder(true);
  }

  /** Builder for a cluster manager below an upstream manager. */
  public static Builder cluster() {
    return new Builder(false);
  }

  public String id() {
    return id;
  }

  public boolean isRoot() {
    return orchestration != null;
  }

  /**
   * The orchestrator's API (register nodes, deploy, scale, place, migrate, remove, grant).
   *
   * @throws IllegalStateException on a cluster manager: only the root allocates and stamps versions
   */
  public Orchestration orchestration() {
    if (orchestration == null) {
      throw new IllegalStateException("only the root manager takes orchestration requests");
    }
    return orchestration;
  }

  /** For a cluster: whether the upstream answered the last request. The root is always online. */
  /** Root only: node-down, node-up and instance-unreachable events for orchestrators, numbered. */
  public NodeEventLog nodeEvents() {
    if (nodeEvents == null) {
      throw new IllegalStateException("only the root keeps node events");
    }
    return nodeEvents;
  }

  public boolean isUpstreamOnline() {
    return upstream == null || upstream.isOnline();
  }

  /** The record this manager holds for a service (whole, unpruned), or null. */
  public ServiceRecord record(ServiceId service) {
    SignedRecord r = records.get(service);
    return r == null ? null : r.record();
  }

  /** Clients with a live registered interest in a service (not counting deployment interest). */
  public Set<String> interestedClients(ServiceId service) {
    return interests.liveClients(service, clock.millis());
  }

  /** For a cluster: services it holds an interest in at its upstream. */
  public Set<ServiceId> upstreamInterests() {
    return Set.copyOf(upstreamInterests);
  }

  /** The limits this manager applies per client. */
  public ManagerLimits limits() {
    return limits;
  }

  /**
   * Requests (or upstream fetches on a client's behalf) this manager refused so far with an
   * {@link io.semnet.resolver.protocol.ErrorReply} code: {@code RATE_LIMITED},
   * {@code TOO_MANY_OUTSTANDING}, or {@code NOT_PERMITTED} (renewal fetches skipped: over the
   * per-renewal cap, out of tokens, or for a service the client may not reach).
   */
  public long refusedRequests(String code) {
    return limiter.refused(code);
  }

  /** The isolation rules this manager enforces. */
  public IsolationRules isolationRules() {
    return rules.rules();
  }

  void resyncDeployment() {
    cluster.resyncDeployment();
  }

    void removeInterest(ServiceId s, String clientId) {
    interests.remove(s, clientId);
  }

  // ---------------------------------------------------------------- visibility and publishing
  // (in ManagerPublishing; these delegates keep the callers' view of the manager)

  boolean hostsAnything(String clientId) {
    return publishing.hostsAnything(clientId);
  }

  boolean visible(String clientId, ServiceId target) {
    return publishing.visible(clientId, target);
  }

  SignedRecord pruneFor(String clientId, SignedRecord sr, int mustKeep) {
    return publishing.pruneFor(clientId, sr, mustKeep);
  }

  void applyRecord(SignedRecord sr) {
    publishing.applyRecord(sr);
  }

  void applyRemoval(SignedRemoval removal) {
    publishing.applyRemoval(removal);
  }

  void applyRules(SignedRules r) {
    publishing.applyRules(r);
  }

  /**
   * Root only: tells {@code listener} the root's certificate revocation list now and each new one
   * (e.g. {@link BrokerCrl}), on the thread that changed it.
   *
   * @throws IllegalStateException on a cluster manager
   */
  public void onRevocations(java.util.function.Consumer<io.semnet.resolver.protocol.SignedRevocations> listener) {
    if (orchestration == null) {
      throw new IllegalStateException("manager " + id + " is not the root: it holds no revocation list of its own");
    }
    orchestration.revocations.listen(listener);
  }

  void applyRevocations(io.semnet.resolver.protocol.SignedRevocations r) {
    publishing.applyRevocations(r);
  }

  // ---------------------------------------------------------------- maintenance

  /**
   * Root only: signs a new heartbeat (epoch, every service's version, the rules version) and pushes
   * it to every client, which forward it on; runs every {@code heartbeatInterval} by itself.
   */
  public SignedHeartbeat publishHeartbeat() {
    return heartbeats.publish();
  }

  /** The latest root heartbeat this manager signed or accepted, or null. */
  public SignedHeartbeat heartbeat() {
    return heartbeats.current();
  }

  private void heartbeatQuietly() {
    try {
      heartbeats.publish();
    } catch (RuntimeException e) {
      log.warn("manager {}: heartbeat failed", id, e);
    }
  }

  private void maintenanceQuietly() {
    try {
      runMaintenance();
    } catch (RuntimeException e) {
      log.warn("manager {}: maintenance failed", id, e);
    }
  }

  /**
   * One round of housekeeping (runs periodically; tests may call it directly): expires interests
   * not renewed in time; a cluster renews its upstream interests in services some worker still uses
   * or that are deployed in it, drops the rest and forgets their records, and resynchronises after
   * an upstream outage.
   */
  public void runMaintenance() {
    long now = clock.millis();
    interests.expire(now);
    if (upstream != null) {
      cluster.renewUpstream();
    }
  }

  @Override
  public void close() {
    liveness.close();
    if (scheduler != null) {
      scheduler.shutdownNow();
    }
    binding.close();
    if (upstream != null) {
      upstream.close();
    }
    if (orchestration != null) {
      orchestration.close();
    }
  }

  @Override
  public String toString() {
    return "ServiceManager{" + id + (isRoot() ? " root" : " cluster") + ", " + records.size() + " records}";
  }

  static final class ClientInfo {
    final Role role;
    final GeoPoint location;

    ClientInfo(Role role, GeoPoint location) {
      this.role = role;
      this.location = location;
    }
  }

  /** Configures a root or cluster {@link ServiceManager}. */
  public static final class Builder {
    private final boolean root;
    private String id;
    private ControlTransport transport;
    private RootAuthority authority;
    private RootTrust trust;
    private RecordVerifier verifier;
    private String upstream;
    private GeoPoint location;
    private AddressPlan plan = AddressPlan.defaults();
    private Set<String> platformPolicies;
    private RoutingPolicyRegistry registry;
    private RootStore store;
    private int pruneK = 32;
    private Duration interestTtl = Duration.ofSeconds(60);
    private Duration maintenanceInterval = Duration.ofSeconds(10);
    private Duration requestTimeout = Duration.ofMillis(1500);
    private Clock clock = Clock.systemUTC();
    private Duration heartbeatInterval = Duration.ofSeconds(5);
    private Duration heartbeatValidity = Duration.ofSeconds(60);
    private long rootEpoch;
    private Duration certificateValidity = Orchestration.DEFAULT_CERTIFICATE_VALIDITY;
    private ManagerLimits limits = ManagerLimits.defaults();

    private Builder(boolean root) {
      this.root = root;
    }

    /** The manager's id on the transport (clients connect to it by this id). */
    public Builder id(String id) {
      this.id = id;
      return this;
    }

    public Builder transport(ControlTransport transport) {
      this.transport = transport;
      return this;
    }

    /** Root only: the signing identity. */
    public Builder authority(RootAuthority authority) {
      this.authority = authority;
      return this;
    }

    /** Cluster only: the root's public key, to verify everything received from upstream. */
    public Builder rootTrust(RootTrust trust) {
      this.trust = trust;
      return this;
    }

    /** A verifier to share with other components of this process (instead of {@link #rootTrust}). */
    public Builder verifier(RecordVerifier verifier) {
      this.verifier = verifier;
      return this;
    }

    /** Cluster only: the id of the upstream manager (the root). */
    public Builder upstream(String upstreamId) {
      this.upstream = upstreamId;
      return this;
    }

    /** Where this manager is (sent upstream for pruning; informational). */
    public Builder location(GeoPoint location) {
      this.location = location;
      return this;
    }

    /** Root only: the address plan (default {@link AddressPlan#defaults()}). */
    public Builder plan(AddressPlan plan) {
      this.plan = Objects.requireNonNull(plan, "plan");
      return this;
    }

    /**
     * Root only: the routing policies the platform offers; every service gets one ServiceIP per
     * policy (and family). Each must be known to the policy registry. Default: all registry policies.
     */
    public Builder platformPolicies(Set<String> policies) {
      this.platformPolicies = Set.copyOf(policies);
      return this;
    }

    /** The policy registry (default {@link RoutingPolicyRegistry#getDefaultRegistry()}). */
    public Builder policyRegistry(RoutingPolicyRegistry registry) {
      this.registry = registry;
      return this;
    }

    /** Root only: where allocations are persisted (default in memory: nothing survives a restart). */
    public Builder store(RootStore store) {
      this.store = store;
      return this;
    }

    /** Instances kept per policy in answers to workers (k-pruning); 0 disables pruning. Default 32. */
    public Builder pruneK(int k) {
      if (k < 0) {
        throw new IllegalArgumentException("k must be >= 0");
      }
      this.pruneK = k;
      return this;
    }

    /** How long a registered interest lives without renewal (default 60 s). */
    public Builder interestTtl(Duration ttl) {
      this.interestTtl = Objects.requireNonNull(ttl, "ttl");
      return this;
    }

    /** Period of {@link #runMaintenance()}; zero disables the automatic runs (tests). Default 10 s. */
    public Builder maintenanceInterval(Duration interval) {
      this.maintenanceInterval = Objects.requireNonNull(interval, "interval");
      return this;
    }

    /**
     * How long to wait for the upstream's reply (default 1.5 s). Keep it below the workers' request
     * timeout, so a slow root yields an UNAVAILABLE answer rather than a worker that thinks its
     * cluster is down.
     */
    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /**
     * Root only: how long a node certificate (and the signed registration carrying it) is valid
     * from its issue; nodes renew before expiry (default {@link Orchestration#DEFAULT_CERTIFICATE_VALIDITY}, 24 h).
     */
    public Builder certificateValidity(Duration validity) {
      if (validity == null || validity.isNegative() || validity.isZero()) {
        throw new IllegalArgumentException("certificate validity must be positive");
      }
      this.certificateValidity = validity;
      return this;
    }

    /** What one client may ask of this manager (default {@link ManagerLimits#defaults()}). */
    public Builder limits(ManagerLimits limits) {
      this.limits = Objects.requireNonNull(limits, "limits");
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Root: how often it signs and pushes a heartbeat (default 5 s; zero: only by
     * {@link ServiceManager#publishHeartbeat()}); heartbeats also need a maintenance interval above zero.
     */
    public Builder heartbeatInterval(Duration interval) {
      this.heartbeatInterval = Objects.requireNonNull(interval, "interval");
      return this;
    }

    /** Root: how long a heartbeat may be accepted after it was signed (default 60 s). */
    public Builder heartbeatValidity(Duration validity) {
      this.heartbeatValidity = Objects.requireNonNull(validity, "validity");
      return this;
    }

    /**
     * Root: its epoch, carried by every heartbeat (default 0). It must grow whenever another root
     * process takes over (a highly available root uses its leadership epoch); versions never go
     * back across epochs.
     */
    public Builder rootEpoch(long epoch) {
      if (epoch < 0) {
        throw new IllegalArgumentException("negative epoch");
      }
      this.rootEpoch = epoch;
      return this;
    }

    public ServiceManager build() {
      if (root && upstream != null) {
        throw new IllegalArgumentException("a root has no upstream");
      }
      return new ServiceManager(this, root);
    }
  }
}
