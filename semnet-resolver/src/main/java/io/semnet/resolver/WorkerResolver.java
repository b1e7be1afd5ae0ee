package io.semnet.resolver;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Ticker;
import io.semnet.core.address.InstanceIp;
import io.semnet.core.address.ServiceIp;
import io.semnet.core.address.VirtualIp;
import io.semnet.core.isolation.IsolationRules;
import io.semnet.core.node.NodeContext;
import io.semnet.core.node.RouteResolver;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.Resolution;
import io.semnet.core.route.Route;
import io.semnet.core.route.RouteListener;
import io.semnet.core.service.SemanticName;
import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RootTrust;
import io.semnet.resolver.internal.UpstreamLink;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.Drop;
import io.semnet.resolver.protocol.ErrorReply;
import io.semnet.resolver.protocol.HelloReply;
import io.semnet.resolver.protocol.Query;
import io.semnet.resolver.protocol.QueryKey;
import io.semnet.resolver.protocol.QueryReply;
import io.semnet.resolver.protocol.RecordPush;
import io.semnet.resolver.protocol.RemovalPush;
import io.semnet.resolver.protocol.Renew;
import io.semnet.resolver.protocol.RenewReply;
import io.semnet.resolver.protocol.Role;
import io.semnet.resolver.protocol.RulesPush;
import io.semnet.resolver.protocol.ServiceVersion;
import io.semnet.resolver.protocol.SignedRecord;
import io.semnet.resolver.protocol.SignedRemoval;
import io.semnet.resolver.protocol.SignedRules;
import io.semnet.resolver.transport.ControlTransport;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
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
 * </ul>
 *
 * <p>Completions and listener calls happen on resolver or transport threads, never the caller's.
 * Thread-safe.
 */
public final class WorkerResolver implements RouteResolver {
  private static final Logger log = LoggerFactory.getLogger(WorkerResolver.class);

  private final String nodeId;
  private final ControlTransport transport;
  private final String managerId;
  private final GeoPoint location;
  private final RecordVerifier verifier;
  private final Duration requestTimeout;
  private final Duration renewInterval;
  private final Duration maintenanceInterval;
  private final Ticker ticker;
  private final Executor executor;
  private final ScheduledExecutorService scheduler;
  private final boolean ownThreads;
  private final Cache<Object, Route> routes;
  private final Cache<Object, String> negatives;
  private final Map<ServiceId, Entry> services = new ConcurrentHashMap<>();
  private final Map<Object, CompletableFuture<Resolution>> inflight = new ConcurrentHashMap<>();
  private final List<RouteListener> listeners = new CopyOnWriteArrayList<>();
  private final Set<ServiceId> toDrop = ConcurrentHashMap.newKeySet();
  private volatile SignedRules rules = SignedRules.of(0, IsolationRules.DEFAULT, null);
  private volatile UpstreamLink link;
  private volatile long lastRenewal;
  private volatile boolean needResync;
  private volatile boolean closed;
  private ScheduledFuture<?> task;
  private final java.util.concurrent.atomic.LongAdder queries = new java.util.concurrent.atomic.LongAdder();
  private final java.util.concurrent.atomic.LongAdder negativeHits = new java.util.concurrent.atomic.LongAdder();
  private final java.util.concurrent.atomic.LongAdder unavailable = new java.util.concurrent.atomic.LongAdder();
  private final java.util.concurrent.atomic.LongAdder rejected = new java.util.concurrent.atomic.LongAdder();
  private final java.util.concurrent.atomic.LongAdder applied = new java.util.concurrent.atomic.LongAdder();
  private final java.util.concurrent.atomic.LongAdder stale = new java.util.concurrent.atomic.LongAdder();

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

  // ---------------------------------------------------------------- lifecycle

  @Override
  public void start(NodeContext context) {
    if (context != null && !context.nodeId().equals(nodeId)) {
      throw new IllegalArgumentException("resolver built for node '" + nodeId + "' started in node '" + context.nodeId() + "'");
    }
    start();
  }

  /** Connects to the manager (asynchronously) and starts maintenance; for use outside a SemnetNode. */
  public synchronized WorkerResolver start() {
    if (link != null) {
      return this;
    }
    link = new UpstreamLink(transport, managerId, nodeId, Role.WORKER, location, requestTimeout, this::onPush, this::onHello);
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
    if (ownThreads) {
      scheduler.shutdownNow();
    }
  }

  // ---------------------------------------------------------------- RouteResolver

  @Override
  public Route cached(InetAddress virtualIp) {
    Route r = routes.getIfPresent(virtualIp);
    if (r != null) {
      markUsed(r.target().service());
    }
    return r;
  }

  /** The cached route for a semantic name, or null; like {@link #cached(InetAddress)}. */
  public Route cached(SemanticName name) {
    Route r = routes.getIfPresent(name);
    if (r != null) {
      markUsed(r.target().service());
    }
    return r;
  }

  @Override
  public CompletionStage<Resolution> resolve(InetAddress virtualIp) {
    return resolveKey(QueryKey.of(Objects.requireNonNull(virtualIp, "virtualIp")));
  }

  @Override
  public CompletionStage<Resolution> resolve(SemanticName name) {
    return resolveKey(QueryKey.of(Objects.requireNonNull(name, "name")));
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

  @Override
  public boolean isOnline() {
    UpstreamLink l = link;
    return l != null && l.isOnline();
  }

  /**
   * Counters since start, for metrics: table queries sent, answers served from the negative cache,
   * resolutions that ended UNAVAILABLE (manager unreachable or refused), records and rule sets
   * rejected for a bad or missing root signature, record versions applied, and pushed versions
   * ignored because a newer one was already held.
   */
  public record Stats(boolean online, int services, long queries, long negativeHits, long unavailable,
      long rejected, long applied, long staleIgnored) {}

  public Stats stats() {
    return new Stats(isOnline(), services.size(), queries.sum(), negativeHits.sum(), unavailable.sum(), rejected.sum(),
        applied.sum(), stale.sum());
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

  // ---------------------------------------------------------------- queries

  private CompletionStage<Resolution> resolveKey(QueryKey key) {
    Object k = key.value();
    if (closed) {
      return CompletableFuture.completedFuture(Resolution.unavailable("resolver is closed"));
    }
    Route r = routes.getIfPresent(k);
    if (r != null) {
      markUsed(r.target().service());
      return async(Resolution.found(r));
    }
    String negative = negatives.getIfPresent(k);
    if (negative != null) {
      negativeHits.increment();
      return async(Resolution.notFound(negative));
    }
    if (link == null) {
      return async(Resolution.unavailable("resolver is not running"));
    }
    if (link.lastFailed()) {
      unavailable.increment();
      return async(Resolution.unavailable("service manager '" + managerId + "' is unreachable"));
    }
    CompletableFuture<Resolution> f = inflight.computeIfAbsent(k, x -> {
      // A query that finished between the cache check above and here has already put its answer
      // (it does so before leaving the in-flight map): look again rather than ask twice.
      if (routes.getIfPresent(x) != null || negatives.getIfPresent(x) != null) {
        return null; // no mapping: answered below from the caches
      }
      CompletableFuture<Resolution> cf = new CompletableFuture<>();
      try {
        executor.execute(() -> query(key, cf));
      } catch (java.util.concurrent.RejectedExecutionException e) {
        return null; // closing
      }
      return cf;
    });
    if (f == null) {
      Route late = routes.getIfPresent(k);
      if (late != null) {
        return async(Resolution.found(late));
      }
      String lateNegative = negatives.getIfPresent(k);
      return async(lateNegative != null ? Resolution.notFound(lateNegative)
          : Resolution.unavailable(closed ? "resolver is closed" : "route changed while resolving; retry"));
    }
    try {
      return f.thenApplyAsync(x -> x, executor);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return f;
    }
  }

  private void query(QueryKey key, CompletableFuture<Resolution> cf) {
    Object k = key.value();
    queries.increment();
    link.request(new Query(key, true)).handle((reply, e) -> {
      Resolution res;
      if (e != null) {
        needResync = true;
        res = Resolution.unavailable("service manager '" + managerId + "' is unreachable: " + e.getMessage());
      } else {
        res = onQueryReply(key, reply);
      }
      if (res.status() == Resolution.Status.UNAVAILABLE) {
        unavailable.increment();
      }
      inflight.remove(k, cf);
      cf.complete(res);
      return null;
    });
  }

  private Resolution onQueryReply(QueryKey key, ControlMessage reply) {
    if (!(reply instanceof QueryReply)) {
      String why = reply instanceof ErrorReply ? ((ErrorReply) reply).reason() : reply.type();
      return Resolution.unavailable("service manager refused the query: " + why);
    }
    QueryReply q = (QueryReply) reply;
    switch (q.status()) {
      case NOT_FOUND:
        String reason = q.reason() == null ? "no route for " + key : q.reason();
        negatives.put(key.value(), reason);
        return Resolution.notFound(reason);
      case UNAVAILABLE:
        return Resolution.unavailable(q.reason() == null ? "upstream unavailable" : q.reason());
      default:
        break;
    }
    SignedRecord sr = q.record();
    if (!verifier.verify(sr)) {
      rejected.increment();
      log.warn("resolver {}: rejected record of {} for {}: bad or missing root signature", nodeId, sr.record().service(), key);
      return Resolution.unavailable("record for " + key + " failed root signature verification");
    }
    Entry e = services.computeIfAbsent(sr.record().service(), s -> new Entry());
    applyRecord(e, sr);
    Route route;
    synchronized (e) {
      route = routeFor(key.value(), e.record.record());
      if (route == null) {
        negatives.put(key.value(), "no route for " + key);
        return Resolution.notFound("no route for " + key);
      }
      e.keys.add(key.value());
      e.used = true;
      routes.put(key.value(), route);
    }
    return Resolution.found(route);
  }

  /** The route a key has in a record, or null if the record does not answer it. */
  static Route routeFor(Object key, ServiceRecord r) {
    VirtualIp target = null;
    if (key instanceof InetAddress) {
      InetAddress a = (InetAddress) key;
      ServiceIp sip = r.serviceIpFor(a);
      if (sip != null) {
        target = sip;
      } else {
        InstanceRecord i = r.instanceFor(a);
        if (i != null) {
          target = i.instanceIp(a instanceof Inet4Address);
        }
      }
    } else if (key instanceof SemanticName) {
      SemanticName n = (SemanticName) key;
      if (!n.service().equals(r.service())) {
        return null;
      }
      if (n.isInstance()) {
        InstanceRecord i = r.instance(n.instance());
        if (i != null) {
          InstanceIp ip = i.instanceIpv4() != null ? i.instanceIpv4() : i.instanceIpv6();
          target = ip;
        }
      } else {
        ServiceIp ip = r.serviceIp(n.policy(), true);
        target = ip != null ? ip : r.serviceIp(n.policy(), false);
      }
    }
    return target == null ? null : Route.of(target, r);
  }

  // ---------------------------------------------------------------- updates

  /** Applies a verified record if newer than the held one; updates every route of the service. */
  private void applyRecord(Entry e, SignedRecord sr) {
    synchronized (e) {
      SignedRecord prev = e.record;
      if (prev != null && prev.record().version() > sr.record().version()) {
        stale.increment();
        return;
      }
      if (prev != null && prev.record().version() == sr.record().version()) {
        // Two prunings of one signed version (e.g. an InstanceIP outside the k best was asked for):
        // keep the union, which the same signature covers.
        Map<Integer, InstanceRecord> union = new java.util.TreeMap<>();
        prev.record().instances().forEach(i -> union.put(i.ordinal(), i));
        int before = union.size();
        sr.record().instances().forEach(i -> union.putIfAbsent(i.ordinal(), i));
        if (union.size() == before) {
          return;
        }
        SignedRecord merged = prev.pruned(new ArrayList<>(union.values()));
        for (Object key : List.copyOf(e.keys)) {
          Route r = routeFor(key, merged.record());
          if (r != null) {
            routes.asMap().computeIfPresent(key, (k, old) -> r);
          }
        }
        e.record = merged;
        return;
      }
      applied.increment();
      // Routes first, then the record: whoever sees the new record also finds the new routes.
      for (Object key : List.copyOf(e.keys)) {
        Route r = routeFor(key, sr.record());
        if (r == null) {
          e.keys.remove(key);
          routes.invalidate(key);
        } else {
          routes.asMap().computeIfPresent(key, (k, old) -> r);
        }
      }
      e.record = sr;
      ServiceRecord before = prev == null ? null : prev.record();
      for (RouteListener l : listeners) {
        try {
          l.onRecordUpdated(before, sr.record());
        } catch (RuntimeException ex) {
          log.warn("resolver {}: route listener failed", nodeId, ex);
        }
      }
    }
  }

  private void applyRemoval(SignedRemoval removal) {
    if (removal.isSigned() && !verifier.verify(removal)) {
      rejected.increment();
      log.warn("resolver {}: rejected removal of {}: bad root signature", nodeId, removal.service());
      return;
    }
    Entry e = services.get(removal.service());
    if (e == null) {
      return;
    }
    synchronized (e) {
      if (e.record != null && e.record.record().version() > removal.version()) {
        return;
      }
      services.remove(removal.service(), e);
      for (Object key : List.copyOf(e.keys)) {
        routes.invalidate(key);
      }
      e.keys.clear();
      for (RouteListener l : listeners) {
        try {
          l.onServiceRemoved(removal.service());
        } catch (RuntimeException ex) {
          log.warn("resolver {}: route listener failed", nodeId, ex);
        }
      }
    }
  }

  private void applyRules(SignedRules r) {
    if (r.version() <= rules.version()) {
      return;
    }
    if (!verifier.verify(r)) {
      rejected.increment();
      log.warn("resolver {}: rejected isolation rules v{}: bad or missing root signature", nodeId, r.version());
      return;
    }
    synchronized (this) {
      if (r.version() > rules.version()) {
        rules = r;
      }
    }
  }

  private void onHello(HelloReply h) {
    applyRules(h.rules());
  }

  private void onPush(ControlMessage m) {
    if (m instanceof RecordPush) {
      SignedRecord sr = ((RecordPush) m).record();
      Entry e = services.get(sr.record().service());
      if (e == null) {
        return; // forgotten meanwhile; its interest will lapse
      }
      if (!verifier.verify(sr)) {
        rejected.increment();
        log.warn("resolver {}: rejected pushed record of {}: bad or missing root signature", nodeId, sr.record().service());
        return;
      }
      applyRecord(e, sr);
    } else if (m instanceof RemovalPush) {
      applyRemoval(((RemovalPush) m).removal());
    } else if (m instanceof RulesPush) {
      applyRules(((RulesPush) m).rules());
    } else {
      log.warn("resolver {}: ignoring unexpected push '{}'", nodeId, m.type());
    }
  }

  private void markUsed(ServiceId service) {
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
    if (closed || link == null) {
      return;
    }
    routes.cleanUp();
    negatives.cleanUp();
    if (!link.isOnline()) {
      Boolean ok = join(link.hello());
      if (ok == null || !ok) {
        needResync = true;
        return;
      }
    }
    if (!toDrop.isEmpty()) {
      List<ServiceId> drop = new ArrayList<>(toDrop);
      toDrop.removeAll(drop);
      drop.removeIf(services::containsKey);
      if (!drop.isEmpty()) {
        link.request(new Drop(drop));
      }
    }
    long now = ticker.read();
    boolean resync = needResync;
    if (!resync && now - lastRenewal < renewInterval.toNanos()) {
      return;
    }
    List<ServiceVersion> renew = new ArrayList<>();
    services.forEach((sid, e) -> {
      if (resync || e.used) {
        e.used = false;
        renew.add(new ServiceVersion(sid, e.record == null ? 0 : e.record.record().version()));
      }
    });
    lastRenewal = now;
    if (renew.isEmpty()) {
      needResync = false;
      return;
    }
    ControlMessage reply;
    try {
      reply = link.request(new Renew(renew)).toCompletableFuture().get(requestTimeout.toMillis() * 3, TimeUnit.MILLISECONDS);
    } catch (Exception ex) {
      needResync = true;
      for (ServiceVersion sv : renew) {
        Entry e = services.get(sv.service());
        if (e != null) {
          e.used = true; // renew again next time
        }
      }
      return;
    }
    needResync = false;
    if (reply instanceof RenewReply) {
      RenewReply rr = (RenewReply) reply;
      for (SignedRecord sr : rr.newer()) {
        Entry e = services.get(sr.record().service());
        if (e != null && verifier.verify(sr)) {
          applyRecord(e, sr);
        }
      }
      for (SignedRemoval gone : rr.gone()) {
        applyRemoval(gone);
      }
    }
  }

  private static <T> T join(CompletionStage<T> s) {
    try {
      return s.toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      return null;
    }
  }

  private CompletionStage<Resolution> async(Resolution r) {
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

  private static final class Entry {
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

    /** Time source for expiry and renewal (tests). */
    public Builder ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker);
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
