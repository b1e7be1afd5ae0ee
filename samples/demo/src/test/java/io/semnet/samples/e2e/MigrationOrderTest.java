package io.semnet.samples.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.control.ServiceDescriptor;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.service.ServiceId;
import io.semnet.node.WorkerNode;
import io.semnet.proxy.Counter;
import io.semnet.samples.cluster.LocalCluster;
import io.semnet.samples.cluster.Migration;
import io.semnet.samples.cluster.MigrationTraffic;
import io.semnet.testing.Privileged;
import io.semnet.testkit.MigrationReport;
import java.net.InetAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * In-order delivery across a buffered stateful move, in network namespaces: a client on w3 streams
 * UDP datagrams with sequence numbers every millisecond to an instance that moves from w1 to w2.
 * The source holds what arrives during the freeze and replays it to w2; the client's node switches
 * to w2 as soon as it applies the new locator, so its direct datagrams would overtake the replay's
 * tail; w2 holds them until w1's in-band replay end. The echo server counts datagrams that reach it
 * after a later one of the same stream; none may, and none may be lost.
 */
@Privileged
class MigrationOrderTest {
  private static final int UDP = 9300;
  private static final int TCP = 9301;

  @Test
  void aBufferedStatefulMoveDeliversEveryDatagramInOrder() throws Exception {
    ServiceId svc = ServiceId.of("order", "tum", "state", "prod");
    ServiceId users = ServiceId.of("order", "tum", "player", "prod");
    try (LocalCluster cluster = new LocalCluster()) {
      cluster.addWorker("w1", GeoPoint.of(48.14, 11.58));
      cluster.addWorker("w2", GeoPoint.of(52.52, 13.40));
      cluster.addWorker("w3", GeoPoint.of(53.55, 9.99));
      cluster.deploy(ServiceDescriptor.builder(svc).instances(1).build());
      cluster.deploy(ServiceDescriptor.builder(users).instances(1).build());
      LocalCluster.Instance server = cluster.startInstance("w1", svc, 0);
      LocalCluster.Instance client = cluster.startInstance("w3", users, 0);
      MigrationTraffic.serve(server, UDP, TCP);
      InetAddress target = server.record().instanceIpv4().address();

      MigrationTraffic.Client c = MigrationTraffic.start(client, target, UDP, TCP, Duration.ofMillis(2500),
          Duration.ofMillis(1)).awaitFlowing();
      Thread.sleep(300);
      long reorderedBefore = MigrationTraffic.reorderedAtServer(server);
      try (Migration m = cluster.migrateStateful(server, "w2", Duration.ofMillis(300), true)) {
        m.awaitReleased();
        MigrationTraffic.Result r = c.await();
        MigrationReport report = m.report(r);
        long reorderedAtServer = MigrationTraffic.reorderedAtServer(server) - reorderedBefore;
        long[] window = r.window(m.tFreeze(), Long.MAX_VALUE);
        WorkerNode w2 = cluster.worker("w2");
        System.out.println("move: " + report);
        System.out.printf("datagrams from the freeze on %d, lost %d, reordered at the instance %d, echoes reordered at the"
            + " client %d; w2 held %d direct packets for the replay end (bound hit %d), markers received %d%n",
            window[0], window[1], reorderedAtServer, r.reordered(), w2.translator().counter(Counter.MIGRATION_ORDER_HELD),
            w2.translator().counter(Counter.MIGRATION_ORDER_BOUND_HIT),
            w2.translator().counter(Counter.MIGRATION_REPLAY_END_RECEIVED));
        var hold = m.hold();
        if (hold != null) {
          System.out.printf("w1 released %.1f ms after t_up, drained %.1f ms after; t_apply after t_pub (ms): %s%n",
              (hold.releasedAtNanos() - m.tUp()) / 1e6, (hold.drainedAtNanos() - hold.releasedAtNanos()) / 1e6,
              report.tApply().entrySet().stream().map(e -> e.getKey() + "=" + (e.getValue() - m.tPub()) / 1e6).toList());
        }
        assertTrue(report.buffered() > 50, "the source held the freeze's datagrams: " + report);
        assertEquals(1, w2.translator().counter(Counter.MIGRATION_REPLAY_END_RECEIVED), "w1's replay end reached w2");
        assertEquals(0, window[1], "datagrams lost");
        assertEquals(0, reorderedAtServer, "datagrams that reached the instance out of order");
        assertEquals(0, r.duplicated());
        assertTrue(r.tcpSurvived(m.tUp()), "TCP survived: " + r.tcpError());
      }
    }
  }
}
