package io.semnet.testkit;

import io.semnet.core.address.Addresses;
import io.semnet.core.address.IpPrefix;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.policy.InstanceSelector;
import io.semnet.core.policy.RoutingPolicy;
import io.semnet.core.policy.RoutingPolicyProvider;
import io.semnet.core.policy.RoutingPolicyRegistry;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.Resolution;
import io.semnet.core.service.ServiceId;
import io.semnet.control.InProcessControlPlane;
import io.semnet.resolver.NodeRegistration;
import io.semnet.control.Orchestration;
import io.semnet.control.ServiceDescriptor;
import io.semnet.resolver.WorkerResolver;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The in-process scale scenario shared by the CI scale test (which asserts correctness only) and
 * the benchmark in semnet-bench (which reports heap, query latencies and migration convergence): a
 * root, several clusters, many simulated workers, many services, each worker interested in some of
 * them. Not API; lives here so that both use the same code.
 */
public final class ScaleScenario implements AutoCloseable {
  /** Sizes of the scenario. */
  public static final class Config {
    public int clusters = 4;
    public int workers = 1000;
    public int services = 10_000;
    public int instances = 10;
    public int interestsPerWorker = 50;
    public int inFlight = 64;
    public long seed = 42;
  }

  /** Latencies (ns) of one phase of queries, and how many were wrong. */
  public static final class Phase {
    public final List<Long> clusterHit = new ArrayList<>();
    public final List<Long> viaRoot = new ArrayList<>();
    public final List<Long> cacheHit = new ArrayList<>();
    public int failures;
    public final List<String> problems = new ArrayList<>();
  }

  private final Config cfg;
  private final InProcessControlPlane cp;
  private final List<String> clusterIds = new ArrayList<>();
  private final Map<String, List<String>> nodesOfCluster = new HashMap<>();
  private final Map<String, String> clusterOfNode = new HashMap<>();
  private final Map<String, Integer> nsCounter = new HashMap<>();
  private final List<ServiceId> services = new ArrayList<>();
  private final Map<ServiceId, ServiceRecord> records = new HashMap<>();
  private final Map<String, List<ServiceId>> interests = new HashMap<>();
  private final Map<ServiceId, List<String>> interested = new HashMap<>();

  public ScaleScenario(Config cfg) {
    this.cfg = cfg;
    for (int c = 0; c < cfg.clusters; c++) {
      clusterIds.add("c" + c);
    }
    AddressPlan plan = AddressPlan.builder().ipv6(null)
        .ipv4(new AddressPlan.Family(IpPrefix.parse("10.0.0.0/8"), 24, 16, IpPrefix.parse("10.252.0.0/14"))).build();
    this.cp = InProcessControlPlane.builder().clusters(clusterIds.toArray(new String[0])).plan(plan)
        .policyRegistry(registry()).platformPolicies(Set.of("first", "second"))
        .managerMaintenance(Duration.ZERO).workerMaintenance(Duration.ZERO).build();
  }

  private static RoutingPolicyRegistry registry() {
    RoutingPolicyRegistry r = new RoutingPolicyRegistry();
    for (String name : new String[] {"first", "second"}) {
      RoutingPolicy p = new RoutingPolicy() {
        @Override
        public String name() {
          return name;
        }

        @Override
        public InstanceSelector newSelector() {
          return (c, k, v) -> c.size() == 0 ? InstanceSelector.NONE : 0;
        }
      };
      r.register(new RoutingPolicyProvider() {
        @Override
        public String policyName() {
          return name;
        }

        @Override
        public RoutingPolicy newPolicy() {
          return p;
        }
      });
    }
    return r;
  }

  public InProcessControlPlane controlPlane() {
    return cp;
  }

  /** Registers every node and starts its resolver, deploys and places every service, and waits until the clusters hold their deployments. */
  public void deploy() throws InterruptedException {
    for (int k = 0; k < cfg.workers; k++) {
      String node = "w" + k;
      String cluster = clusterIds.get(k % cfg.clusters);
      byte[] key = Arrays.copyOf(node.getBytes(java.nio.charset.StandardCharsets.UTF_8), 32);
      WorkerEndpoint ep = WorkerEndpoint.of(node,
          new InetSocketAddress(Addresses.parseLiteral("198.18." + (k / 250) + "." + (k % 250 + 1)), 51820), key);
      cp.addWorker(cluster, ep, GeoPoint.of(45 + (k % 10), 8 + (k % 7)));
      nodesOfCluster.computeIfAbsent(cluster, x -> new ArrayList<>()).add(node);
      clusterOfNode.put(node, cluster);
    }
    Orchestration o = cp.orchestration();
    for (int i = 0; i < cfg.services; i++) {
      ServiceId s = ServiceId.of("app", "scale", "s" + i, "prod");
      services.add(s);
      o.deploy(ServiceDescriptor.builder(s).instances(cfg.instances).build());
      List<String> nodes = nodesOfCluster.get(clusterIds.get(i % cfg.clusters));
      Map<Integer, Locator> placements = new HashMap<>();
      for (int j = 0; j < cfg.instances; j++) {
        String node = nodes.get(((i / cfg.clusters) * cfg.instances + j) % nodes.size());
        placements.put(j, newLocator(node));
      }
      records.put(s, o.placeInstances(s, placements));
    }
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    for (ServiceId s : services) {
      String cluster = clusterIds.get(services.indexOf(s) % cfg.clusters);
      while (cp.cluster(cluster).record(s) == null) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("cluster " + cluster + " never got " + s);
        }
        Thread.sleep(1);
      }
    }
    Random rnd = new Random(cfg.seed);
    for (int k = 0; k < cfg.workers; k++) {
      Set<ServiceId> picks = new LinkedHashSet<>();
      while (picks.size() < cfg.interestsPerWorker) {
        picks.add(services.get(rnd.nextInt(services.size())));
      }
      interests.put("w" + k, new ArrayList<>(picks));
      for (ServiceId s : picks) {
        interested.computeIfAbsent(s, x -> new ArrayList<>()).add("w" + k);
      }
    }
  }

  private Locator newLocator(String node) {
    NodeRegistration n = cp.registration(node);
    int i = nsCounter.merge(node, 1, Integer::sum);
    return Locator.of(n.subnetV4().addressAt(1 + i), null, n.endpoint(), 0);
  }

  /**
   * Every worker resolves the "first" ServiceIP of each service it is interested in, at most
   * {@code inFlight} queries at a time; each answer is checked.
   */
  public Phase resolveAll() throws InterruptedException {
    Phase phase = new Phase();
    Semaphore window = new Semaphore(cfg.inFlight);
    int total = cfg.workers * cfg.interestsPerWorker;
    CountDownLatch done = new CountDownLatch(total);
    ConcurrentLinkedQueue<long[]> lat = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
    AtomicInteger failures = new AtomicInteger();
    for (int round = 0; round < cfg.interestsPerWorker; round++) {
      for (int k = 0; k < cfg.workers; k++) {
        String node = "w" + k;
        ServiceId s = interests.get(node).get(round);
        WorkerResolver w = cp.worker(node);
        InetAddress sip = records.get(s).serviceIp("first", true).address();
        window.acquire();
        int kind = w.cached(sip) != null ? 2 : cp.cluster(clusterOfNode.get(node)).record(s) != null ? 0 : 1;
        long t0 = System.nanoTime();
        w.resolve(sip).whenComplete((r, e) -> {
          long t = System.nanoTime() - t0;
          window.release();
          if (e != null || r.status() != Resolution.Status.FOUND || !r.route().record().service().equals(s)
              || !r.route().target().address().equals(sip)) {
            failures.incrementAndGet();
            if (problems.size() < 10) {
              problems.add(node + " " + s + ": " + (e != null ? e : r));
            }
          }
          lat.add(new long[] {kind, t});
          done.countDown();
        });
      }
    }
    if (!done.await(5, TimeUnit.MINUTES)) {
      throw new IllegalStateException("queries did not finish");
    }
    for (long[] l : lat) {
      (l[0] == 0 ? phase.clusterHit : l[0] == 1 ? phase.viaRoot : phase.cacheHit).add(l[1]);
    }
    phase.failures = failures.get();
    phase.problems.addAll(problems);
    return phase;
  }

  /** Problems with what the workers hold: each must hold exactly the services it is interested in. */
  public List<String> checkHoldings() {
    List<String> out = new ArrayList<>();
    for (int k = 0; k < cfg.workers; k++) {
      String node = "w" + k;
      Set<ServiceId> want = new LinkedHashSet<>(interests.get(node));
      Set<ServiceId> have = cp.worker(node).cachedServices();
      if (!have.equals(want)) {
        out.add(node + " holds " + have.size() + " services, wants " + want.size());
      }
    }
    return out;
  }

  /**
   * Migrates instance 0 of {@code count} services (spread over the list) to another node of the
   * same cluster, one after the other, and measures for each the time until every interested worker
   * holds the new version with the new locator.
   *
   * @return convergence times in ns
   */
  public long[] migrate(int count, Duration timeout) throws InterruptedException {
    long[] out = new long[count];
    Orchestration o = cp.orchestration();
    for (int m = 0; m < count; m++) {
      int index = (int) ((long) m * services.size() / count);
      ServiceId s = services.get(index);
      ServiceRecord r = records.get(s);
      String from = r.instance(0).locator().worker().nodeId();
      List<String> nodes = nodesOfCluster.get(clusterOfNode.get(from));
      String to = nodes.get((nodes.indexOf(from) + 1 + m) % nodes.size());
      long t0 = System.nanoTime();
      ServiceRecord moved = o.migrate(s, 0, newLocator(to));
      records.put(s, moved);
      List<String> watchers = interested.getOrDefault(s, List.of());
      long deadline = t0 + timeout.toNanos();
      while (!converged(s, moved, to, watchers)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("migration of " + s + " did not reach every interested worker within " + timeout);
        }
        Thread.onSpinWait();
      }
      out[m] = System.nanoTime() - t0;
    }
    return out;
  }

  private boolean converged(ServiceId s, ServiceRecord moved, String to, List<String> watchers) {
    for (String node : watchers) {
      ServiceRecord held = cp.worker(node).record(s);
      if (held == null || held.version() < moved.version()) {
        return false;
      }
      InstanceRecord i = held.instance(0);
      if (i != null && !i.locator().worker().nodeId().equals(to)) {
        return false;
      }
    }
    return true;
  }

  /** Number of (worker, service) interests in the scenario. */
  public int interestCount() {
    return cfg.workers * cfg.interestsPerWorker;
  }

  /** Workers interested in the services {@link #migrate} moves (for reporting). */
  public int watchersOf(int count) {
    int n = 0;
    for (int m = 0; m < count; m++) {
      n += interested.getOrDefault(services.get((int) ((long) m * services.size() / count)), List.of()).size();
    }
    return n;
  }

  @Override
  public void close() {
    cp.close();
  }
}
