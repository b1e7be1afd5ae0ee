package io.semnet.bench.resolver;

import io.semnet.core.address.Addresses;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.Route;
import io.semnet.core.service.ServiceId;
import io.semnet.control.InProcessControlPlane;
import io.semnet.resolver.NodeRegistration;
import io.semnet.control.ServiceDescriptor;
import io.semnet.resolver.WorkerResolver;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The data path's view of the resolver: {@link WorkerResolver#cached} over 1,000 cached ServiceIPs
 * (what the translator calls for each new flow). Run with {@code -prof gc} to see allocation.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RouteCacheBenchmark {
  private InProcessControlPlane cp;
  private WorkerResolver worker;
  private InetAddress[] addresses;
  private int next;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    cp = InProcessControlPlane.builder().clusters("c1").managerMaintenance(Duration.ZERO).workerMaintenance(Duration.ZERO).build();
    WorkerEndpoint ep = WorkerEndpoint.of("w1", new InetSocketAddress(Addresses.parseLiteral("192.0.2.1"), 51820), new byte[32]);
    worker = cp.addWorker("c1", ep, null);
    NodeRegistration n = cp.registration("w1");
    // The node hosts one instance of namespace "bench", so it may see the namespace's services.
    ServiceId client = ServiceId.of("app", "bench", "client", "prod");
    cp.orchestration().deploy(ServiceDescriptor.builder(client).instances(1).build());
    cp.orchestration().placeInstance(client, 0, Locator.of(n.subnetV4().addressAt(2), null, ep, 0));
    addresses = new InetAddress[1000];
    String policy = cp.orchestration().platformPolicies().iterator().next();
    for (int i = 0; i < addresses.length; i++) {
      ServiceId s = ServiceId.of("app", "bench", "s" + i, "prod");
      ServiceRecord r = cp.orchestration().deploy(ServiceDescriptor.builder(s).instances(1).build());
      addresses[i] = r.serviceIp(policy, true).address();
    }
    Thread.sleep(200); // let the deployment interest reach the cluster
    for (InetAddress a : addresses) {
      if (!worker.resolve(a).toCompletableFuture().get(10, TimeUnit.SECONDS).isFound()) {
        throw new IllegalStateException("not found: " + a);
      }
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    cp.close();
  }

  @Benchmark
  public Route cachedHit() {
    int i = next;
    next = i + 1 == addresses.length ? 0 : i + 1;
    return worker.cached(addresses[i]);
  }
}
