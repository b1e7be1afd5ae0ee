package io.semnet.resolver;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Ticker;
import io.semnet.core.isolation.IsolationRules;
import io.semnet.core.trust.RevokedCertificate;
import java.util.function.Consumer;
import io.semnet.core.node.NodeContext;
import io.semnet.core.node.RouteResolver;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.Resolution;
import io.semnet.core.route.Route;
import io.semnet.core.route.RouteListener;
import io.semnet.core.service.SemanticName;
import io.semnet.core.service.ServiceId;
import io.semnet.core.stats.StatsSource;
import io.semnet.core.stats.StatsVisitor;
import io.semnet.core.trust.RootTrust;
import io.semnet.resolver.internal.UpstreamLink;
import io.semnet.resolver.protocol.QueryKey;
import io.semnet.resolver.protocol.Role;
import io.semnet.resolver.protocol.SignedHeartbeat;
import io.semnet.resolver.protocol.SignedRecord;
import io.semnet.resolver.protocol.SignedRules;
import io.semnet.resolver.transport.ControlTransport;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker side of the control plane: a lazy route cache in front of the node's cluster service
 * manager, implementing {@link RouteResolver} for the translator and the name responder.
 *
 * <ul>
 *   <li>Routes are cached by ServiceIP, InstanceIP and semantic name (Caffeine); {@link #cached}
 *       never blocks or queries. A miss starts one table query per key; concurrent misses share it.
 *   <li>A query is answered at once with what the manager knows (fast resolution) and registers the
 *       node's interest in the service in the same round trip; later changes are pushed and applied
 *       in record-version order (an older version never replaces a newer one), each applied change
 *       is told to the {@link RouteListener}s in that order.
 *   <li>Interests are renewed while the service's routes are used ({@link #cached} or
 *       {@link #resolve} since the last renewal) and otherwise left to expire; routes unused for
 *       {@code cacheExpiry} are forgotten (and their interest dropped at once).
 *   <li>"Route not found" answers are cached for {@code negativeTtl}.
 *   <li>When the manager cannot be reached, cached routes keep serving (stale beats nothing),
 *       {@link #isOnline()} is false, new keys fail fast with {@code UNAVAILABLE}; the resolver
 *       probes the manager and, once it answers, re-registers every interest and catches up.
 *   <li>Every record and rule set is verified against the root's public key; forged or unsigned
 *       ones are dropped and logged.
 *   <li>The root's certificate revocation list arrives signed like the rules (pushed after every
 *       hello and on every change, with its own version floor) and is handed to
 *       {@link #onRevocations} listeners.
 *   <li>No rollback: the node keeps a version floor per service, for the isolation rules and the revocation list
 *       ({@link VersionFloors}); applying a record, a root-signed removal, a rule set or a root
 *       heartbeat ({@link SignedHeartbeat}) raises it, nothing lowers it (not a withdrawal, not a
 *       forgotten route, not a restart when a {@link Builder#stateFile state file} is configured).
 *       Anything older than the floor is refused and counted, and so are unsigned withdrawals.
 *       A heartbeat that expired is refused, but expiry never removes a route the node holds.
 * </ul>
 *
 * <p>Completions and listener calls happen on resolver or transport threads, never the caller's.
 * Thread-safe.
 */
public final class WorkerResolver implements RouteResolver, StatsSource {
  private static final Logger log = LoggerFactory.getLogger(WorkerResolver.class);

  final String nodeId;
  private final ControlTransport transport;
  final String managerId;
  private final GeoPoint location;
  final RecordVerifier verifier;
  final Duration requestTimeout;
  final Duration renewInterval;
  private final Duration maintenanceInterval;
  final Ticker ticker;
  final Executor executor;
  private final ScheduledExecutorService scheduler;
  private final boolean ownThreads;
  final Cache<Object, Route> routes;
  final Cache<Object, String> negatives;
  final Map<ServiceId, Entry> services = new ConcurrentHashMap<>();
  final Map<Object, CompletableFuture<Resolution>> inflight = new ConcurrentHashMap<>();
  final List<RouteListener> listeners = new CopyOnWriteArrayList<>();
  final Set<ServiceId> toDrop = ConcurrentHashMap.newKeySet();
  volatile SignedRules rules = SignedRules.of(0, IsolationRules.DEFAULT, null);
  volatile io.semnet.resolver.protocol.SignedRevocations revocations = io.semnet.resolver.protocol.SignedRevocations.NONE;
  final List<Consumer<List<RevokedCertificate>>> revocationListeners = new CopyOnWriteArrayList<>();
  final VersionFloors floors;
  final java.time.Clock clock;
  volatile UpstreamLink link;
  volatile long lastRenewal;
  volatile boolean needResync;
  volatile boolean closed;
  private ScheduledFuture<?> task;
  private final WorkerQueries lookups = new WorkerQueries(this);
  private final WorkerRenewal renewal = new WorkerRenewal(this);
  final WorkerUpdates updates = new WorkerUpdates(this);
  final java.util.concurrent.atomic.LongAdder queries = new java.util.concurrent.atomic.LongAdder();
  final java.util.concurrent.atomic.LongAdder negativeHits = new java.util.concurrent.atomic.LongAdder();
  final java.util.concurrent.atomic.LongAdder unavailable = new java.util.concurrent.atomic.LongAdder();
  final java.util.concurrent.atomic.LongAdder rejected = new java.util.concurrent.atomic.LongAdder();
  final java.util.concurrent.atomic.LongAdder applied = new java.util.concurrent.atomic.LongAdder();
  final java.util.concurrent.atomic.LongAdder stale = new java.util.concurrent.atomic.LongAdder();
  final java.util.concurrent.atomic.LongAdder rollbacks = new java.util.concurrent.atomic.LongAdder();
  final java.util.concurrent.atomic.LongAdder withdrawalsRefused = new java.util.concurrent.atomic.LongAdder();
  final java.util.concurrent.atomic.LongAdder staleHeartbeats = new java.util.concurrent.atomic.LongAdder();
  final java.util.concurrent.atomic.LongAdder cacheHits = new java.util.concurrent.atomic.LongAdder();
  final java.util.concurrent.atomic.LongAdder cacheMisses = new java.util.concurrent.atomic.LongAdder();

  private WorkerResolver(Builder b) {
    this.nodeId = Objects.requireNonNull(b.nodeId, "nodeId");
    this.transport = Objects.requireNonNull(b.transport, "transport");
    this.managerId = Objects.requireNonNull(b.managerId, "manager");
    this.location = b.location;
    if (b.verifier == null && b.trust == null) {
      throw new IllegalArgumentException("a worker resolver needs the root's public key (rootTrust)");
    }
    this.verifier = b.verifier != null ? b.verifier : RecordVerifier.of(b.trust);
    this.requestTimeout = b.requestTimeout;
    this.renewInterval = b.renewInterval;
    this.maintenanceInterval = b.maintenanceInterval;
    this.ticker = b.ticker;
    this.clock = b.clock;
    this.floors = b.stateFile == null ? VersionFloors.inMemory() : VersionFloors.load(b.stateFile);
    this.ownThreads = b.executor == null;
    if (ownThreads) {
      this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "semnet-resolver-" + nodeId);
        t.setDaemon(true);
        return t;
      });
      this.executor = scheduler;
    } else {
      this.executor = b.executor;
      this.scheduler = b.scheduler;
    }
    this.routes = Caffeine.newBuilder()
        .ticker(ticker)
        .executor(Runnable::run)
        .expireAfterAccess(b.cacheExpiry)
        .maximumSize(b.maxRoutes)
        .<Object, Route>removalListener((key, route, cause) -> onRouteRemoved(key, route, cause))
        .build();
    this.negatives = Caffeine.newBuilder().ticker(ticker).executor(Runnable::run)
        .expireAfterWrite(b.negativeTtl).maximumSize(b.maxRoutes).build();
  }

  public static Builder builder() {
    return new Builder();
  }

  public String nodeId() {
    return nodeId;
  }

  /** Where availability hints go (the node's view; null outside a node: hints are ignored). */
  volatile io.semnet.core.policy.LocalNodeView view;

  // ---------------------------------------------------------------- lifecycle

  @Override
  public void start(NodeContext context) {
    if (context != null && !context.nodeId().equals(nodeId)) {
      throw new IllegalArgumentException("resolver built for node '" + nodeId + "' started in node '" + context.nodeId() + "'");
    }
    if (context != null) {
      this.view = context.view();
    }
    start();
  }

  /** Connects to the manager (asynchronously) and starts maintenance; for use outside a SemnetNode. */
  public synchronized WorkerResolver start() {
    if (link != null) {
      return this;
    }
    link = new UpstreamLink(transport, managerId, nodeId, Role.WORKER, location, requestTimeout, updates::onPush, updates::onHello);
    lastRenewal = ticker.read();
    link.hello();
    if (scheduler != null && !maintenanceInterval.isZero()) {
      long ms = maintenanceInterval.toMillis();
      task = scheduler.scheduleWithFixedDelay(() -> {
        try {
          runMaintenance();
        } catch (RuntimeException e) {
          log.warn("resolver {}: maintenance failed", nodeId, e);
        }
      }, ms, ms, TimeUnit.MILLISECONDS);
    }
    return this;
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (task != null) {
      task.cancel(false);
    }
    if (link != null) {
      link.close();
    }
    saveState();
    if (ownThreads) {
      scheduler.shutdownNow();
    }
  }

  // ---------------------------------------------------------------- RouteResolver

  @Override
  public Route cached(InetAddress virtualIp) {
    Route r = routes.getIfPresent(virtualIp);
    if (r != null) {
      cacheHits.increment();
      markUsed(r.target().service());
    } else {
      cacheMisses.increment();
    }
    return r;
  }

  /** The cached route for a semantic name, or null; like {@link #cached(InetAddress)}. */
  public Route cached(SemanticName name) {
    Route r = routes.getIfPresent(name);
    if (r != null) {
      cacheHits.increment();
      markUsed(r.target().service());
    } else {
      cacheMisses.increment();
    }
    return r;
  }

  @Override
  public CompletionStage<Resolution> resolve(InetAddress virtualIp) {
    return lookups.resolveKey(QueryKey.of(Objects.requireNonNull(virtualIp, "virtualIp")));
  }

  @Override
  public CompletionStage<Resolution> resolve(SemanticName name) {
    return lookups.resolveKey(QueryKey.of(Objects.requireNonNull(name, "name")));
  }

  @Override
  public void addListener(RouteListener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  @Override
  public void removeListener(RouteListener listener) {
    listeners.remove(listener);
  }

  @Override
  public IsolationRules isolationRules() {
    return rules.rules();
  }

  /** The certificates on the newest root-signed revocation list this node accepted (empty before the first). */
  public List<RevokedCertificate> revokedCertificates() {
    return revocations.revoked();
  }

  /**
   * Tells {@code listener} the revoked certificates now and again on every newer verified list, in
   * version order (on a resolver or transport thread). The node hands them to its tunnel.
   */
  public void onRevocations(Consumer<List<RevokedCertificate>> listener) {
    synchronized (revocationListeners) {
      revocationListeners.add(listener);
      listener.accept(revocations.revoked());
    }
  }

  @Override
  public boolean isOnline() {
    UpstreamLink l = link;
    return l != null && l.isOnline();
  }

  /**
   * Counters since start, for metrics: table queries sent, answers served from the negative cache,
   * resolutions that ended UNAVAILABLE (manager unreachable or refused), records and rule sets
   * rejected for a bad or missing root signature, record versions applied, and pushed versions
   * ignored because a newer one was already held; and the rollbacks refused: records, removals and
   * rule sets older than the node's version floor, unsigned withdrawals, and heartbeats that were
   * expired or older than the one held; and route-cache look-ups of the data path that hit and missed.
   * As a {@link StatsSource} it reports them as {@code semnet.resolver.*} stats.
   */
  public record Stats(boolean online, int services, long queries, long negativeHits, long unavailable,
      long rejected, long applied, long staleIgnored, long rollbacksRefused, long withdrawalsRefused,
      long staleHeartbeats, long cacheHits, long cacheMisses) implements StatsSource {
    @Override
    public void reportTo(StatsVisitor visitor) {
      ResolverStatsReport.report(this, visitor);
    }
  }

  /** Reports {@link #stats()} ({@code semnet.resolver.*}). */
  @Override
  public void reportTo(StatsVisitor visitor) {
    stats().reportTo(visitor);
  }

  public Stats stats() {
    return new Stats(isOnline(), services.size(), queries.sum(), negativeHits.sum(), unavailable.sum(), rejected.sum(),
        applied.sum(), stale.sum(), rollbacks.sum(), withdrawalsRefused.sum(), staleHeartbeats.sum(), cacheHits.sum(),
        cacheMisses.sum());
  }

  /** The lowest record version of {@code service} this node still accepts (0: none known). */
  public long versionFloor(ServiceId service) {
    return floors.floor(service);
  }

  /** The root epoch of the newest heartbeat accepted, or -1. */
  public long rootEpoch() {
    return floors.epoch();
  }

  /** Services this node currently holds routes for. */
  public Set<ServiceId> cachedServices() {
    return Set.copyOf(services.keySet());
  }

  /** The (possibly k-pruned) record held for a service, or null. */
  public ServiceRecord record(ServiceId service) {
    Entry e = services.get(service);
    SignedRecord r = e == null ? null : e.record;
    return r == null ? null : r.record();
  }

  /** Writes the version floors to the state file if they changed (no-op without one). */
  void saveState() {
    try {
      floors.save();
    } catch (RuntimeException e) {
      log.warn("resolver {}: cannot save its state", nodeId, e);
    }
  }

  void markUsed(ServiceId service) {
    Entry e = services.get(service);
    if (e != null && !e.used) {
      e.used = true;
    }
  }

  private void onRouteRemoved(Object key, Route route, RemovalCause cause) {
    if (!cause.wasEvicted() || route == null) {
      return;
    }
    ServiceId sid = route.target().service();
    Entry e = services.get(sid);
    if (e == null) {
      return;
    }
    synchronized (e) {
      e.keys.remove(key);
      if (e.keys.isEmpty()) {
        services.remove(sid, e);
        toDrop.add(sid);
      }
    }
  }

  // ---------------------------------------------------------------- maintenance

  /**
   * One round of housekeeping (runs every maintenance interval; tests may call it directly):
   * forgets routes unused for the cache expiry (dropping their interests), renews the interests of
   * services used since the last renewal, probes the manager while offline and, once it answers,
   * re-registers every interest and catches up on what changed meanwhile.
   */
  public void runMaintenance() {
    renewal.run();
  }

  CompletionStage<Resolution> async(Resolution r) {
    try {
      return CompletableFuture.supplyAsync(() -> r, executor);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return CompletableFuture.completedFuture(closed ? Resolution.unavailable("resolver is closed") : r);
    }
  }

  @Override
  public String toString() {
    return "WorkerResolver{" + nodeId + " -> " + managerId + ", " + services.size() + " services, "
        + (isOnline() ? "online" : "offline") + "}";
  }

  static final class Entry {
    volatile SignedRecord record;
    final Set<Object> keys = ConcurrentHashMap.newKeySet();
    volatile boolean used;
  }

  /** Configures a {@link WorkerResolver}. */
  public static final class Builder {
    private String nodeId;
    private ControlTransport transport;
    private String managerId;
    private GeoPoint location;
    private RootTrust trust;
    private RecordVerifier verifier;
    private Duration cacheExpiry = Duration.ofMinutes(5);
    private Duration negativeTtl = Duration.ofSeconds(5);
    private Duration renewInterval = Duration.ofSeconds(20);
    private Duration maintenanceInterval = Duration.ofSeconds(1);
    private Duration requestTimeout = Duration.ofSeconds(3);
    private long maxRoutes = 1_000_000;
    private Ticker ticker = Ticker.systemTicker();
    private java.time.Clock clock = java.time.Clock.systemUTC();
    private java.nio.file.Path stateFile;
    private Executor executor;
    private ScheduledExecutorService scheduler;

    private Builder() {}

    /** This node's id (as registered with the root; the manager sees it as the client id). */
    public Builder nodeId(String nodeId) {
      this.nodeId = nodeId;
      return this;
    }

    public Builder transport(ControlTransport transport) {
      this.transport = transport;
      return this;
    }

    /** The id of the cluster service manager to ask. */
    public Builder manager(String managerId) {
      this.managerId = managerId;
      return this;
    }

    /** Where this node is (for k-pruning by the manager). */
    public Builder location(GeoPoint location) {
      this.location = location;
      return this;
    }

    /** The root's public key, configured at enrollment. */
    public Builder rootTrust(RootTrust trust) {
      this.trust = trust;
      return this;
    }

    /** A verifier shared with other components of this process (instead of {@link #rootTrust}). */
    public Builder verifier(RecordVerifier verifier) {
      this.verifier = verifier;
      return this;
    }

    /** Routes unused for this long are forgotten (default 5 min). */
    public Builder cacheExpiry(Duration d) {
      this.cacheExpiry = Objects.requireNonNull(d);
      return this;
    }

    /** How long a "route not found" answer is cached (default 5 s). */
    public Builder negativeTtl(Duration d) {
      this.negativeTtl = Objects.requireNonNull(d);
      return this;
    }

    /** How often interests of used services are renewed; keep it well below the manager's interest TTL (default 20 s). */
    public Builder renewInterval(Duration d) {
      this.renewInterval = Objects.requireNonNull(d);
      return this;
    }

    /** How often maintenance runs (expiry, renewal, probing while offline); zero: never automatically (default 1 s). */
    public Builder maintenanceInterval(Duration d) {
      this.maintenanceInterval = Objects.requireNonNull(d);
      return this;
    }

    /** How long to wait for the manager's reply (default 3 s; keep it above the cluster's upstream timeout). */
    public Builder requestTimeout(Duration d) {
      this.requestTimeout = Objects.requireNonNull(d);
      return this;
    }

    /** Upper bound of cached routes (default 1,000,000). */
    public Builder maxRoutes(long n) {
      this.maxRoutes = n;
      return this;
    }

    /** Wall clock against which heartbeat expiry is checked (default: system UTC). */
    public Builder clock(java.time.Clock clock) {
      this.clock = Objects.requireNonNull(clock);
      return this;
    }

    /**
     * Where the node keeps its version floors across restarts (next to its identity): loaded at
     * build, written atomically (temporary file, mode 0600, renamed) by the maintenance round when
     * they changed and on close. Without one, floors live in memory only and a restarted node
     * relies on the first heartbeat it receives.
     */
    public Builder stateFile(java.nio.file.Path file) {
      this.stateFile = Objects.requireNonNull(file);
      return this;
    }

    /** Like {@link #stateFile}, with the file {@code resolver-state} in {@code directory} (created if missing). */
    public Builder stateDirectory(java.nio.file.Path directory) {
      try {
        java.nio.file.Files.createDirectories(directory);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException("cannot create state directory " + directory, e);
      }
      return stateFile(directory.resolve("resolver-state"));
    }

    /**
     * Time source for expiry and renewal, in nanoseconds like {@link System#nanoTime()} (tests step
     * it over TTLs; default {@code System::nanoTime}).
     */
    public Builder ticker(java.util.function.LongSupplier nanoTime) {
      Objects.requireNonNull(nanoTime, "nanoTime");
      this.ticker = nanoTime::getAsLong;
      return this;
    }

    /**
     * Threads to share with other resolvers of this process (many simulated workers in one JVM):
     * completions run on {@code executor}, maintenance on {@code scheduler} (may be null to run
     * maintenance only by hand). Default: one own daemon thread.
     */
    public Builder threads(Executor executor, ScheduledExecutorService scheduler) {
      this.executor = Objects.requireNonNull(executor);
      this.scheduler = scheduler;
      return this;
    }

    public WorkerResolver build() {
      return new WorkerResolver(this);
    }
  }
}
