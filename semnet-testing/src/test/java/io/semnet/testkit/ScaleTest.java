package io.semnet.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.testkit.ScaleScenario;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The scale scenario of the issue, in process: 1,000 workers, 10,000 services of 10 instances, each
 * worker interested in 50 services. Asserts correctness only (every answer right, every worker holds
 * exactly its interests, every interested worker converges after migrations); timings are reported
 * by the benchmark in semnet-bench, never asserted here.
 */
class ScaleTest {
  @Test
  void thousandWorkersTenThousandServicesConverge() throws Exception {
    ScaleScenario.Config cfg = new ScaleScenario.Config();
    try (ScaleScenario s = new ScaleScenario(cfg)) {
      long t0 = System.nanoTime();
      s.deploy();
      long t1 = System.nanoTime();
      ScaleScenario.Phase cold = s.resolveAll();
      assertEquals(0, cold.failures, "wrong or missing answers: " + cold.problems);
      assertEquals(cfg.workers * cfg.interestsPerWorker, cold.clusterHit.size() + cold.viaRoot.size() + cold.cacheHit.size());
      assertTrue(cold.viaRoot.size() > 0, "some queries had to go to the root");
      ScaleScenario.Phase warm = s.resolveAll();
      assertEquals(0, warm.failures, "wrong or missing answers: " + warm.problems);
      assertEquals(cfg.workers * cfg.interestsPerWorker, warm.cacheHit.size(), "second round served from the worker caches");
      assertEquals(java.util.List.of(), s.checkHoldings(), "nothing lost, nothing extra");
      long[] conv = s.migrate(10, Duration.ofSeconds(60));
      assertEquals(10, conv.length);
      System.out.printf("scale test: deploy %.1f s, cold queries %.1f s, %d watchers of migrated services%n",
          (t1 - t0) / 1e9, (System.nanoTime() - t1) / 1e9, s.watchersOf(10));
    }
  }
}
