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
import io.semnet.samples.cluster.StatefulMigrationBenchmark;
import io.semnet.testing.Privileged;
import io.semnet.testkit.MigrationReport;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * In-order delivery across a buffered stateful move, in network namespaces: a client on w3 streams
 * UDP datagrams with sequence numbers every millisecond to an instance that moves from w1 to w2.
 * The source holds what arrives during the freeze and replays it to w2; the client's node switches
 * to w2 as soon as it applies the new locator, so its direct datagrams would overtake the replay's
 * tail; w2 holds them until w1's in-band replay end. The echo server counts datagrams that reach it
 * after a later one of the same stream; none may, and none may be lost. The instance then moves back
 * to w1 under the same checks.
 */
@Privileged
class MigrationOrderTest {
  private static final int UDP = 9300;
  private static final int TCP = 9301;

  @Test
  void bufferedStatefulMovesThereAndBackDeliverEveryDatagramInOrder() throws Exception {
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
      // Tunnel links between all three nodes first: a sender's first contact with the destination
      // is a separate, documented trade-off (it keeps its flow on the old path while the handshake
      // runs, and under load switches after the replay end: 97 and 24 reordered, 219 lost at load
      // 20-30 in the first move). This test is about the order across a move, not about handshakes.
      for (WorkerNode a : cluster.workers()) {
        for (WorkerNode b : cluster.workers()) {
          if (a != b) {
            LocalCluster.waitFor(() -> a.tunnel().isReady(b.endpoint()), a.nodeId() + "'s link to " + b.nodeId(),
                Duration.ofSeconds(60));
          }
        }
      }
      // There and back. The return move's replay was once dropped as DROP_ROAM_NOT_OWNED (the
      // destination still knew the instance's flows and cached the record of the move away). A third
      // move (back to w2) is an open defect: its locator may never reach w1 (the cluster withdrew the
      // service from w1 while it hosted nothing and forgot w1's interest), so w1's hold is never
      // released; the fix (c2a9f07) was reverted, it made ~1 in 10 buffered moves lose their stream.
      for (String to : new String[] {"w2", "w1"}) {
        moveInOrder(cluster, server, client, target, to);
      }
    }
  }

  private static void moveInOrder(LocalCluster cluster, LocalCluster.Instance server, LocalCluster.Instance client,
      InetAddress target, String to) throws Exception {
    WorkerNode dest = cluster.worker(to);
    long markers = dest.translator().counter(Counter.MIGRATION_REPLAY_END_RECEIVED);
    long notOwned = notOwned(cluster);
    MigrationTraffic.Client c = MigrationTraffic.start(client, target, UDP, TCP, Duration.ofSeconds(30),
        Duration.ofMillis(1)).awaitFlowing();
    Map<String, Map<String, Long>> before = drops(cluster); // after the stream's first contacts
    Thread.sleep(300);
    long reorderedBefore = MigrationTraffic.reorderedAtServer(server);
    String from = server.node().nodeId();
    try (Migration m = cluster.migrateStateful(server, to, Duration.ofMillis(300), true)) {
      try {
        m.awaitReleased();
      } catch (IllegalStateException e) {
        System.out.println("control state: " + cluster.controlState(m.instance().service(), m.instance().ordinal()));
        throw e;
      }
      MigrationTraffic.Result r = c.stopAt(m.tUp() + StatefulMigrationBenchmark.AFTER_UP_NANOS).await();
      MigrationReport report = m.report(r);
      long reorderedAtServer = MigrationTraffic.reorderedAtServer(server) - reorderedBefore;
      long[] window = r.window(m.tFreeze(), Long.MAX_VALUE);
      System.out.println("move " + from + " -> " + to + ": " + report);
      System.out.printf("datagrams from the freeze on %d, lost %d, reordered at the instance %d, echoes reordered at the"
          + " client %d; %s held %d direct packets for the replay end (bound hit %d), markers received %d%n",
          window[0], window[1], reorderedAtServer, r.reordered(), to, dest.translator().counter(Counter.MIGRATION_ORDER_HELD),
          dest.translator().counter(Counter.MIGRATION_ORDER_BOUND_HIT),
          dest.translator().counter(Counter.MIGRATION_REPLAY_END_RECEIVED) - markers);
      System.out.println("drops during the move: " + since(before, drops(cluster)) + "; lost (ms after the freeze): "
          + lostRanges(r, m.tFreeze()));
      var hold = m.hold();
      if (hold != null) {
        System.out.printf("%s released %.1f ms after t_up, drained %.1f ms after; t_apply after t_pub (ms): %s%n", from,
            (hold.releasedAtNanos() - m.tUp()) / 1e6, (hold.drainedAtNanos() - hold.releasedAtNanos()) / 1e6,
            report.tApply().entrySet().stream().map(e -> e.getKey() + "=" + (e.getValue() - m.tPub()) / 1e6).toList());
      }
      assertTrue(report.buffered() > 50, "the source held the freeze's datagrams: " + report);
      assertEquals(1, dest.translator().counter(Counter.MIGRATION_REPLAY_END_RECEIVED) - markers,
          from + "'s replay end reached " + to);
      assertEquals(0, notOwned(cluster) - notOwned, "packets refused as sent by a node that does not own them");
      assertEquals(0, window[1], "datagrams lost");
      assertEquals(0, reorderedAtServer, "datagrams that reached the instance out of order");
      assertEquals(0, r.duplicated());
      assertTrue(r.tcpSurvived(m.tUp()), "TCP survived: " + r.tcpError());
    }
  }

  /** Every node's drop counters and its tunnel's drops, by name. */
  private static Map<String, Map<String, Long>> drops(LocalCluster cluster) {
    Map<String, Map<String, Long>> m = new TreeMap<>();
    for (WorkerNode w : cluster.workers()) {
      Map<String, Long> cs = new TreeMap<>();
      w.translator().counters().forEach((k, v) -> {
        if (k.isDrop()) {
          cs.put(k.name(), v);
        }
      });
      w.tunnel().stats().drops().forEach((k, v) -> cs.put("tunnel " + k, v));
      m.put(w.nodeId(), cs);
    }
    return m;
  }

  private static Map<String, Map<String, Long>> since(Map<String, Map<String, Long>> a, Map<String, Map<String, Long>> b) {
    Map<String, Map<String, Long>> d = new TreeMap<>();
    b.forEach((node, cs) -> cs.forEach((k, v) -> {
      long n = v - a.getOrDefault(node, Map.of()).getOrDefault(k, 0L);
      if (n != 0) {
        d.computeIfAbsent(node, x -> new TreeMap<>()).put(k, n);
      }
    }));
    return d;
  }

  /** The lost datagrams as ranges of send times, ms after {@code t0}. */
  private static String lostRanges(MigrationTraffic.Result r, long t0) {
    StringBuilder sb = new StringBuilder();
    int i = 0;
    long[] s = r.sentNanos();
    long[] got = r.recvNanos();
    while (i < s.length) {
      if (got[i] != 0 || s[i] < t0) {
        i++;
        continue;
      }
      int j = i;
      while (j + 1 < s.length && got[j + 1] == 0) {
        j++;
      }
      sb.append(String.format("[%.1f..%.1f: %d] ", (s[i] - t0) / 1e6, (s[j] - t0) / 1e6, j - i + 1));
      i = j + 1;
    }
    return sb.length() == 0 ? "none" : sb.toString();
  }

  /** Packets the cluster's nodes refused because the sending node did not own their source or flow. */
  private static long notOwned(LocalCluster cluster) {
    long n = 0;
    for (WorkerNode w : cluster.workers()) {
      n += w.translator().counter(Counter.DROP_ROAM_NOT_OWNED) + w.translator().counter(Counter.DROP_SOURCE_NOT_OWNED);
    }
    return n;
  }
}
