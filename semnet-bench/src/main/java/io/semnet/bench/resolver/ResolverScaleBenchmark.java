package io.semnet.bench.resolver;

import io.semnet.testkit.ScaleScenario;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The scale scenario, measured: heap used by the whole in-process control plane (root, 4
 * clusters, 1,000 workers, 10,000 services of 10 instances, 50 interests per worker), table-query
 * latency p50/p99 (cold: the cluster must ask the root; warm: the cluster holds the record; cached:
 * the worker's own cache), and the time until every interested worker has seen a migration.
 *
 * <pre>
 * java -cp semnet-bench/target/benchmarks.jar io.semnet.bench.resolver.ResolverScaleBenchmark [workers services instances interests migrations inFlight]
 * </pre>
 */
public final class ResolverScaleBenchmark {
  private ResolverScaleBenchmark() {}

  public static void main(String[] args) throws Exception {
    ScaleScenario.Config cfg = new ScaleScenario.Config();
    int migrations = 50;
    if (args.length >= 4) {
      cfg.workers = Integer.parseInt(args[0]);
      cfg.services = Integer.parseInt(args[1]);
      cfg.instances = Integer.parseInt(args[2]);
      cfg.interestsPerWorker = Integer.parseInt(args[3]);
    }
    if (args.length >= 5) {
      migrations = Integer.parseInt(args[4]);
    }
    if (args.length >= 6) {
      cfg.inFlight = Integer.parseInt(args[5]);
    }
    long heap0 = usedHeap();
    try (ScaleScenario s = new ScaleScenario(cfg)) {
      long t0 = System.nanoTime();
      s.deploy();
      long t1 = System.nanoTime();
      ScaleScenario.Phase first = s.resolveAll();
      ScaleScenario.Phase second = s.resolveAll();
      if (first.failures + second.failures > 0) {
        throw new IllegalStateException("wrong answers: " + first.problems + second.problems);
      }
      long heap1 = usedHeap();
      long[] conv = s.migrate(migrations, Duration.ofSeconds(60));
      System.out.printf("scenario: %d clusters, %d workers, %d services x %d instances, %d interests per worker (%d interests), %d queries in flight%n",
          cfg.clusters, cfg.workers, cfg.services, cfg.instances, cfg.interestsPerWorker, s.interestCount(), cfg.inFlight);
      System.out.printf("deploy (register nodes, deploy+place, clusters receive deployments): %.1f s%n", (t1 - t0) / 1e9);
      System.out.printf("heap used after GC: %.1f MiB (baseline %.1f MiB)%n", heap1 / 1048576.0, heap0 / 1048576.0);
      report("query cold (cluster asks root)", first.viaRoot);
      report("query warm (cluster holds record)", first.clusterHit);
      report("cached (worker cache hit, via resolve())", second.cacheHit);
      List<Long> c = new ArrayList<>();
      for (long v : conv) {
        c.add(v);
      }
      report("migration convergence (" + s.watchersOf(migrations) + " watcher notifications over " + migrations + " migrations)", c);
    }
  }

  private static void report(String what, List<Long> ns) {
    if (ns.isEmpty()) {
      System.out.printf("%-70s n=0%n", what);
      return;
    }
    List<Long> l = new ArrayList<>(ns);
    Collections.sort(l);
    System.out.printf("%-70s n=%6d  p50=%8.1f us  p99=%8.1f us  max=%8.1f us%n", what, l.size(),
        l.get(l.size() / 2) / 1e3, l.get(Math.min(l.size() - 1, (int) (l.size() * 0.99))) / 1e3, l.get(l.size() - 1) / 1e3);
  }

  private static long usedHeap() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
