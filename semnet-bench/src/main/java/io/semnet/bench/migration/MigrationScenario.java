package io.semnet.bench.migration;

import io.semnet.core.address.Addresses;
import io.semnet.core.address.IpPrefix;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.policy.RoutingPolicyRegistry;
import io.semnet.core.policy.internal.RoundRobinPolicy;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.Resolution;
import io.semnet.core.route.RouteListener;
import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RootAuthority;
import io.semnet.resolver.NodeRegistration;
import io.semnet.control.Orchestration;
import io.semnet.resolver.RecordVerifier;
import io.semnet.control.ServiceDescriptor;
import io.semnet.control.ServiceManager;
import io.semnet.resolver.WorkerResolver;
import io.semnet.resolver.transport.ControlTransport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The migration convergence scenario, shared by the benchmark (which reports times and message
 * costs) and the CI test (which asserts correctness only): a root, one cluster manager and N worker
 * resolvers on a {@link CountingTransport} over any {@link ControlTransport}; one service with two
 * instances on two extra nodes of the cluster; every worker hosts an instance of a client service
 * of the same app namespace (so isolation lets it see the service) and resolved instance 0's
 * InstanceIP, so it holds an interest in the service. Each repetition migrates instance 0 to the other extra node (a
 * new {@link Locator}) and waits until every worker's {@link RouteListener} has seen the new
 * locator version.
 *
 * <p>Per repetition: t_pub is taken just before {@link Orchestration#migrate} is called, t_apply(i)
 * when worker i's listener sees a locator version newer than the one before the migration;
 * convergence is max over workers of t_apply(i) − t_pub. A listener that ever sees an older locator
 * version than one it saw before counts a regression. Workers and managers run no periodic
 * maintenance, so every message during the migrations is caused by them.
 */
public final class MigrationScenario implements AutoCloseable {
  /** What a run of repetitions measured. */
  public static final class Result {
    /** Number of interested workers. */
    public int workers;
    /** Convergence per repetition (ns). */
    public long[] convergenceNs = new long[0];
    /** Locator versions seen going backwards, over all workers and repetitions. */
    public long regressions;
    /** Table queries the workers sent during the repetitions (their own counters). */
    public long workerQueries;
    /** Messages on the transport during the repetitions. */
    public CountingTransport.Counts counts;
    /** Workers not holding the newest locator at the end (should be empty). */
    public final List<String> problems = new ArrayList<>();

    public int repetitions() {
      return convergenceNs.length;
    }
  }

  private static final String ROOT = "root";
  private static final String CLUSTER = "c1";
  private static final String[] HOSTS = {"m0", "m1"};

  private final int n;
  private final CountingTransport transport;
  private final ServiceManager root;
  private final ServiceManager cluster;
  private final List<WorkerResolver> workers = new ArrayList<>();
  private final ExecutorService workerPool;
  private final ServiceId service = ServiceId.of("app", "mig", "svc", "prod");
  private final AtomicLongArray lastSeen;
  private final AtomicLongArray applyAt;
  private final LongAdder regressions = new LongAdder();
  private volatile Round round;
  private ServiceRecord current;
  private int host; // extra node instance 0 is on

  /** One repetition: workers count down once each when they see a version above {@code above}. */
  private static final class Round {
    final long above;
    final CountDownLatch latch;
    final AtomicIntegerArray seen;

    Round(long above, int workers) {
      this.above = above;
      this.latch = new CountDownLatch(workers);
      this.seen = new AtomicIntegerArray(workers);
    }
  }

  /**
   * Builds the control plane on {@code base} (which the scenario closes), deploys the service and
   * makes every worker interested.
   *
   * @param base the transport under the counting decorator (in-process or MQTT)
   * @param workerCount number of interested workers
   * @param setUpTimeout how long set-up (connections, first resolutions) may take
   */
  public MigrationScenario(ControlTransport base, int workerCount, Duration setUpTimeout) throws InterruptedException {
    this.n = workerCount;
    this.transport = new CountingTransport(base);
    this.lastSeen = new AtomicLongArray(workerCount);
    this.applyAt = new AtomicLongArray(workerCount);
    long deadline = System.nanoTime() + setUpTimeout.toNanos();
    RootAuthority authority = RootAuthority.generate();
    RecordVerifier verifier = RecordVerifier.of(authority.trust());
    RoutingPolicyRegistry registry = RoutingPolicyRegistry.getDefaultRegistry();
    // IPv4 only, /24 per node: room for a thousand workers plus the two hosts.
    AddressPlan plan = AddressPlan.builder().ipv6(null)
        .ipv4(new AddressPlan.Family(IpPrefix.parse("10.0.0.0/8"), 24, 16, IpPrefix.parse("10.252.0.0/14"))).build();
    this.root = ServiceManager.root().id(ROOT).transport(transport).authority(authority).plan(plan)
        .policyRegistry(registry).platformPolicies(Set.of(RoundRobinPolicy.NAME)).maintenanceInterval(Duration.ZERO).build();
    this.cluster = ServiceManager.cluster().id(CLUSTER).upstream(ROOT).transport(transport).verifier(verifier)
        .policyRegistry(registry).maintenanceInterval(Duration.ZERO).build();
    AtomicInteger t = new AtomicInteger();
    this.workerPool = Executors.newFixedThreadPool(2, r -> {
      Thread th = new Thread(r, "migration-workers-" + t.incrementAndGet());
      th.setDaemon(true);
      return th;
    });
    Orchestration o = root.orchestration();
    for (int h = 0; h < HOSTS.length; h++) {
      o.registerNode(CLUSTER, endpoint(HOSTS[h], 250, h), GeoPoint.of(45, 8));
    }
    until(deadline, cluster::isUpstreamOnline, "cluster " + CLUSTER + " never reached the root");
    o.deploy(ServiceDescriptor.builder(service).instances(2).build());
    current = o.placeInstances(service, Map.of(0, locatorOn(HOSTS[0], 2), 1, locatorOn(HOSTS[1], 3)));
    host = 0;
    until(deadline, () -> cluster.record(service) != null, "cluster never received the deployment");

    // Visibility: a worker sees a service only if it hosts one of the same app namespace, so each
    // worker hosts an instance of a client service (placed in one version, before the resolvers start).
    ServiceId client = ServiceId.of("app", "mig", "client", "prod");
    Map<Integer, Locator> clients = new java.util.HashMap<>();
    GeoPoint[] where = new GeoPoint[workerCount];
    for (int k = 0; k < workerCount; k++) {
      where[k] = GeoPoint.of(45 + (k % 10), 8 + (k % 7));
      o.registerNode(CLUSTER, endpoint("w" + k, k / 250, k % 250 + 1), where[k]);
      clients.put(k, locatorOn("w" + k, 2));
    }
    o.deploy(ServiceDescriptor.builder(client).instances(workerCount).build());
    o.placeInstances(client, clients);
    until(deadline, () -> cluster.record(client) != null, "cluster never received the client service");
    for (int k = 0; k < workerCount; k++) {
      WorkerResolver w = WorkerResolver.builder().nodeId("w" + k).manager(CLUSTER).transport(transport).verifier(verifier)
          .location(where[k]).threads(workerPool, null).maintenanceInterval(Duration.ZERO).build();
      w.addListener(listener(k));
      this.workers.add(w.start());
    }
    // Over a network transport a worker's first hello may go out before it sees the manager: probe
    // again (what its maintenance would do) until all are online.
    until(deadline, () -> {
      boolean all = true;
      for (WorkerResolver w : this.workers) {
        if (!w.isOnline()) {
          w.runMaintenance();
          all = false;
        }
      }
      return all;
    }, "not every worker got online");
    resolveAll(deadline);
    until(deadline, () -> {
      for (int k = 0; k < n; k++) {
        if (lastSeen.get(k) != current.instance(0).locator().version()) {
          return false;
        }
      }
      return true;
    }, "workers did not all see the initial record");
    transport.reset();
  }

  /** The transport identities a scenario with {@code workers} workers uses: root, cluster, workers. */
  public static List<String> identities(int workers) {
    List<String> ids = new ArrayList<>(List.of(ROOT, CLUSTER));
    for (int k = 0; k < workers; k++) {
      ids.add("w" + k);
    }
    return ids;
  }

  private static WorkerEndpoint endpoint(String id, int hi, int lo) {
    byte[] key = Arrays.copyOf(id.getBytes(StandardCharsets.UTF_8), 32);
    return WorkerEndpoint.of(id, new InetSocketAddress(Addresses.parseLiteral("198.18." + hi + "." + lo), 51820), key);
  }

  private Locator locatorOn(String node, int index) {
    NodeRegistration r = root.orchestration().node(node);
    return Locator.of(r.subnetV4().addressAt(index), null, r.endpoint(), 0);
  }

  private RouteListener listener(int k) {
    return new RouteListener() {
      @Override
      public void onRecordUpdated(ServiceRecord previous, ServiceRecord now) {
        long t = System.nanoTime();
        InstanceRecord i = now.instance(0);
        if (i == null || i.locator() == null) {
          return;
        }
        long v = i.locator().version();
        long last = lastSeen.get(k);
        if (v < last) {
          regressions.increment();
          return;
        }
        lastSeen.set(k, v);
        Round r = round;
        if (r != null && v > r.above && r.seen.compareAndSet(k, 0, 1)) {
          applyAt.set(k, t);
          r.latch.countDown();
        }
      }

      @Override
      public void onServiceRemoved(ServiceId s) {}
    };
  }

  private void resolveAll(long deadline) throws InterruptedException {
    InetAddress ip = current.instance(0).instanceIpv4().address();
    Semaphore window = new Semaphore(64);
    CountDownLatch done = new CountDownLatch(n);
    ConcurrentLinkedQueue<String> bad = new ConcurrentLinkedQueue<>();
    for (WorkerResolver w : workers) {
      window.acquire();
      w.resolve(ip).whenComplete((r, e) -> {
        window.release();
        if (e != null || r.status() != Resolution.Status.FOUND) {
          bad.add(w.nodeId() + ": " + (e != null ? e : r));
        }
        done.countDown();
      });
    }
    if (!done.await(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS) || !bad.isEmpty()) {
      throw new IllegalStateException("workers could not resolve the InstanceIP: " + bad);
    }
  }

  private interface Check {
    boolean ok() throws InterruptedException;
  }

  private static void until(long deadline, Check c, String failure) throws InterruptedException {
    while (!c.ok()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(failure);
      }
      Thread.sleep(5);
    }
  }

  /** Number of interested workers. */
  public int workers() {
    return n;
  }

  /** The service whose instance migrates. */
  public ServiceId service() {
    return service;
  }

  /** The counting transport (its counters are zeroed at the end of set-up and by {@link #run}). */
  public CountingTransport transport() {
    return transport;
  }

  /**
   * Migrates instance 0 {@code repetitions} times between the two extra nodes, one migration at a
   * time, each waiting until every worker applied it (or {@code timeout} passed, which throws).
   * Counters are zeroed first, so {@link Result#counts} covers exactly these migrations.
   */
  public Result run(int repetitions, Duration timeout) throws InterruptedException {
    Result res = new Result();
    res.workers = n;
    res.convergenceNs = new long[repetitions];
    long regressions0 = regressions.sum();
    long queries0 = workerQueries();
    transport.reset();
    Orchestration o = root.orchestration();
    for (int rep = 0; rep < repetitions; rep++) {
      int to = 1 - host;
      Locator next = locatorOn(HOSTS[to], 2);
      Round r = new Round(current.instance(0).locator().version(), n);
      round = r;
      long tPub = System.nanoTime();
      ServiceRecord moved = o.migrate(service, 0, next);
      if (!r.latch.await(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
        throw new IllegalStateException("migration " + rep + " reached " + (n - r.latch.getCount()) + " of " + n
            + " workers within " + timeout);
      }
      long last = Long.MIN_VALUE;
      for (int k = 0; k < n; k++) {
        last = Math.max(last, applyAt.get(k));
      }
      res.convergenceNs[rep] = last - tPub;
      current = moved;
      host = to;
    }
    round = null;
    long want = current.instance(0).locator().version();
    for (WorkerResolver w : workers) {
      ServiceRecord held = w.record(service);
      InstanceRecord i = held == null ? null : held.instance(0);
      if (i == null || i.locator() == null || i.locator().version() != want
          || !i.locator().worker().nodeId().equals(HOSTS[host])) {
        res.problems.add(w.nodeId() + " holds " + (i == null ? null : i.locator()) + ", newest is " + current.instance(0).locator());
      }
    }
    res.regressions = regressions.sum() - regressions0;
    res.workerQueries = workerQueries() - queries0;
    res.counts = transport.snapshot();
    return res;
  }

  private long workerQueries() {
    long q = 0;
    for (WorkerResolver w : workers) {
      q += w.stats().queries();
    }
    return q;
  }

  @Override
  public void close() {
    workers.forEach(WorkerResolver::close);
    cluster.close();
    root.close();
    workerPool.shutdownNow();
    transport.close();
  }
}
