package io.semnet.bench.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.Addresses;
import io.semnet.resolver.protocol.Ack;
import io.semnet.resolver.protocol.Query;
import io.semnet.resolver.protocol.QueryKey;
import io.semnet.resolver.transport.ClientChannel;
import io.semnet.resolver.transport.InProcessTransport;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The convergence benchmark's scenario at CI size (50 interested workers, 5 migrations, in-process),
 * asserting correctness only: every worker ends on the newest locator, none ever goes back to an
 * older one, no worker asks a table query during the migrations (the new locator is pushed), and
 * each migration costs one push to the cluster plus one per interested worker. No timing assertions.
 */
class MigrationConvergenceTest {
  private static final int WORKERS = 50;
  private static final int MIGRATIONS = 5;

  @Test
  void everyInterestedWorkerGetsTheNewLocatorPushedWithoutRequeries() throws Exception {
    try (MigrationScenario s = new MigrationScenario(InProcessTransport.builder().threads(2).build(), WORKERS,
        Duration.ofSeconds(60))) {
      MigrationScenario.Result r = s.run(MIGRATIONS, Duration.ofSeconds(30));

      assertEquals(MIGRATIONS, r.repetitions());
      assertTrue(r.problems.isEmpty(), "workers not on the newest locator: " + r.problems);
      assertEquals(0, r.regressions, "locator versions seen going backwards");
      assertEquals(0, r.counts.queries(), "Query requests on the transport during the migrations");
      assertEquals(0, r.workerQueries, "table queries counted by the workers during the migrations");
      // Root -> cluster, then cluster -> each interested worker: exactly N + 1 per migration, and
      // nothing else (no requests, so no replies).
      assertEquals((long) MIGRATIONS * (WORKERS + 1), r.counts.pushes(), "pushes");
      assertEquals(0, r.counts.requests(), "requests during the migrations");
      assertEquals(r.counts.pushes(), r.counts.messages(), "messages");
      assertTrue(r.counts.pushBytes() > 0, "pushes were sized");
      for (long c : r.convergenceNs) {
        assertTrue(c > 0, "every migration converged after it was published");
      }
    }
  }

  @Test
  void countingTransportCountsWhatItCarries() throws Exception {
    // The zero queries above must mean "none happened", not "none were counted": a query through
    // the decorator is counted, with its reply, and both are sized.
    try (MigrationScenario s = new MigrationScenario(InProcessTransport.builder().threads(2).build(), 3,
        Duration.ofSeconds(60))) {
      CountingTransport.Counts before = s.transport().snapshot();
      assertEquals(0, before.messages(), "counters are zeroed after set-up");
      MigrationScenario.Result r = s.run(2, Duration.ofSeconds(30));
      assertEquals(2L * 4, r.counts.pushes());
    }
    CountingTransport t = new CountingTransport(InProcessTransport.builder().threads(1).build());
    try (t) {
      t.bind("m", (c, m) -> CompletableFuture.completedFuture(new Ack()));
      ClientChannel ch = t.connect("m", "c", p -> {});
      ch.request(new Query(QueryKey.of(Addresses.parseLiteral("10.0.0.1")), true), Duration.ofSeconds(5))
          .toCompletableFuture().join();
      CountingTransport.Counts c = t.snapshot();
      assertEquals(1, c.requests());
      assertEquals(1, c.queries());
      assertEquals(1, c.replies());
      assertTrue(c.requestBytes() > 0 && c.replyBytes() > 0);
    }
  }
}
