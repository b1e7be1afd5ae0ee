package io.semnet.control;

import io.semnet.resolver.NodeRegistration;
import io.semnet.resolver.RecordVerifier;
import io.semnet.resolver.WorkerResolver;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.policy.RoutingPolicyRegistry;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.trust.RootAuthority;
import io.semnet.control.store.RootStore;
import io.semnet.resolver.transport.InProcessTransport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A whole control plane in one JVM: a root, some cluster managers and any number of worker
 * resolvers over an {@link InProcessTransport}, sharing one signature verifier and a few threads.
 * For embedding (demos, a single-process edge set-up), tests and the scale benchmark.
 *
 * <pre>{@code
 * try (InProcessControlPlane cp = InProcessControlPlane.builder().clusters("c1").build()) {
 *   Orchestration o = cp.orchestration();
 *   WorkerResolver w = cp.addWorker("c1", endpoint, location);   // registers the node, starts its resolver
 *   NodeRegistration reg = cp.registration(endpoint.nodeId());    // subnet + certificate
 *   ...
 * }
 * }</pre>
 */
public final class InProcessControlPlane implements AutoCloseable {
  private final RootAuthority authority;
  private final InProcessTransport transport;
  private final RecordVerifier verifier;
  private final ServiceManager root;
  private final Map<String, ServiceManager> clusters = new LinkedHashMap<>();
  private final Map<String, WorkerResolver> workers = new LinkedHashMap<>();
  private final ExecutorService workerPool;
  private final ScheduledExecutorService workerScheduler;
  private final Builder config;

  private InProcessControlPlane(Builder b) {
    this.config = b;
    this.authority = b.authority != null ? b.authority : RootAuthority.generate();
    this.transport = InProcessTransport.builder().threads(b.threads).build();
    this.verifier = RecordVerifier.of(authority.trust());
    AtomicInteger n = new AtomicInteger();
    this.workerPool = Executors.newFixedThreadPool(b.threads, r -> {
      Thread t = new Thread(r, "semnet-workers-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    this.workerScheduler = b.workerMaintenance.isZero() ? null : Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "semnet-workers-maintenance");
      t.setDaemon(true);
      return t;
    });
    ServiceManager.Builder rb = ServiceManager.root().id(b.rootId).transport(transport).authority(authority).plan(b.plan)
        .store(b.store).pruneK(b.pruneK).interestTtl(b.interestTtl).maintenanceInterval(b.managerMaintenance);
    if (b.registry != null) {
      rb.policyRegistry(b.registry);
    }
    if (b.platformPolicies != null) {
      rb.platformPolicies(b.platformPolicies);
    }
    this.root = rb.build();
    for (String c : b.clusterIds) {
      ServiceManager.Builder cb = ServiceManager.cluster().id(c).upstream(b.rootId).transport(transport).verifier(verifier)
          .pruneK(b.pruneK).interestTtl(b.interestTtl).maintenanceInterval(b.managerMaintenance);
      if (b.registry != null) {
        cb.policyRegistry(b.registry);
      }
      clusters.put(c, cb.build());
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  public RootAuthority authority() {
    return authority;
  }

  public InProcessTransport transport() {
    return transport;
  }

  public ServiceManager root() {
    return root;
  }

  public Orchestration orchestration() {
    return root.orchestration();
  }

  public ServiceManager cluster(String id) {
    return clusters.get(id);
  }

  public Map<String, ServiceManager> clusters() {
    return Map.copyOf(clusters);
  }

  public synchronized WorkerResolver worker(String nodeId) {
    return workers.get(nodeId);
  }

  public synchronized List<WorkerResolver> workers() {
    return new ArrayList<>(workers.values());
  }

  /** The root's registration of a node (subnets, certificate), or null. */
  public NodeRegistration registration(String nodeId) {
    return root.orchestration().node(nodeId);
  }

  /**
   * Registers a node with the root (in {@code clusterId}) and starts its worker resolver against
   * that cluster's manager.
   */
  public synchronized WorkerResolver addWorker(String clusterId, WorkerEndpoint endpoint, GeoPoint location) {
    if (!clusters.containsKey(clusterId)) {
      throw new IllegalArgumentException("no cluster '" + clusterId + "' in this control plane " + clusters.keySet());
    }
    root.orchestration().registerNode(clusterId, endpoint, location);
    WorkerResolver w = WorkerResolver.builder().nodeId(endpoint.nodeId()).manager(clusterId).transport(transport)
        .verifier(verifier).location(location).threads(workerPool, workerScheduler)
        .maintenanceInterval(config.workerMaintenance.isZero() ? Duration.ZERO : config.workerMaintenance)
        .cacheExpiry(config.cacheExpiry).renewInterval(config.renewInterval).build();
    w.start();
    workers.put(endpoint.nodeId(), w);
    return w;
  }

  @Override
  public synchronized void close() {
    workers.values().forEach(WorkerResolver::close);
    clusters.values().forEach(ServiceManager::close);
    root.close();
    workerPool.shutdownNow();
    if (workerScheduler != null) {
      workerScheduler.shutdownNow();
    }
    transport.close();
  }

  /** Configures an {@link InProcessControlPlane}. */
  public static final class Builder {
    private RootAuthority authority;
    private String rootId = "root";
    private final List<String> clusterIds = new ArrayList<>();
    private AddressPlan plan = AddressPlan.defaults();
    private RoutingPolicyRegistry registry;
    private Set<String> platformPolicies;
    private RootStore store = RootStore.inMemory();
    private int pruneK = 32;
    private int threads = 2;
    private Duration interestTtl = Duration.ofSeconds(60);
    private Duration renewInterval = Duration.ofSeconds(20);
    private Duration cacheExpiry = Duration.ofMinutes(5);
    private Duration managerMaintenance = Duration.ofSeconds(10);
    private Duration workerMaintenance = Duration.ofSeconds(1);

    private Builder() {}

    public Builder authority(RootAuthority a) {
      this.authority = a;
      return this;
    }

    public Builder rootId(String id) {
      this.rootId = Objects.requireNonNull(id);
      return this;
    }

    /** Cluster manager ids (at least one to add workers). */
    public Builder clusters(String... ids) {
      clusterIds.addAll(List.of(ids));
      return this;
    }

    public Builder plan(AddressPlan plan) {
      this.plan = Objects.requireNonNull(plan);
      return this;
    }

    public Builder policyRegistry(RoutingPolicyRegistry r) {
      this.registry = r;
      return this;
    }

    public Builder platformPolicies(Set<String> p) {
      this.platformPolicies = p;
      return this;
    }

    public Builder store(RootStore s) {
      this.store = Objects.requireNonNull(s);
      return this;
    }

    public Builder pruneK(int k) {
      this.pruneK = k;
      return this;
    }

    /** Transport threads and worker completion threads (each; default 2). */
    public Builder threads(int n) {
      this.threads = n;
      return this;
    }

    public Builder interestTtl(Duration d) {
      this.interestTtl = d;
      return this;
    }

    public Builder renewInterval(Duration d) {
      this.renewInterval = d;
      return this;
    }

    public Builder cacheExpiry(Duration d) {
      this.cacheExpiry = d;
      return this;
    }

    /** Maintenance period of the managers; zero: run by hand. */
    public Builder managerMaintenance(Duration d) {
      this.managerMaintenance = d;
      return this;
    }

    /** Maintenance period of the workers; zero: run by hand. */
    public Builder workerMaintenance(Duration d) {
      this.workerMaintenance = d;
      return this;
    }

    public InProcessControlPlane build() {
      return new InProcessControlPlane(this);
    }
  }
}
