package io.semnet.samples.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.service.ServiceId;
import io.semnet.testkit.MigrationReport;
import io.semnet.control.ServiceDescriptor;
import io.semnet.node.WorkerNode;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * The data-path KPIs of stateful migration, end to end in network namespaces (needs root): an
 * instance moves back and forth between w1 and w2 while a client on w3 streams UDP at 1 ms
 * intervals and keeps a TCP connection busy ({@link MigrationTraffic}); {@code --reps} moves with
 * the source node buffering, then as many without. Prints one {@link MigrationReport} per move and
 * the summary, and writes it as JSON with {@code --json FILE}:
 * {@code network_downtime_ms_p50/p99} (t_first − t_up), {@code total_downtime_ms_p50} (t_first −
 * t_freeze, freeze time included), {@code udp_lost_with_buffer}, {@code udp_lost_without_buffer},
 * {@code tcp_survived}, convergence over the interested nodes, the hold counters.
 *
 * <pre>
 * java -cp samples/demo/target/classes:$(cat samples/demo/target/classpath.txt) \
 *     io.semnet.samples.cluster.StatefulMigrationBenchmark [--reps 5] [--freeze-ms 300] [--json FILE]
 * </pre>
 */
public final class StatefulMigrationBenchmark {
  private static final int UDP = 9200;
  private static final int TCP = 9201;
  /** How long the stream goes on after t_up. */
  public static final long AFTER_UP_NANOS = 3_000_000_000L;
  /** The parts of t_first - t_up, in this order (see {@link #breakdown}). */
  static final String[] PARTS = {"up_to_release", "replay_to_first_reply", "publish", "push_apply_source", "push_apply_sender",
      "push_apply_destination"};
  /** What carries the control messages of these moves. */
  static final String CONTROL_TRANSPORT = "in-process (InProcessControlPlane: root and cluster manager in the"
      + " benchmark's JVM; the workers' data path in network namespaces)";

  private StatefulMigrationBenchmark() {}

  public static void main(String[] args) throws Exception {
    int reps = 5;
    long freezeMs = 300;
    Path json = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--reps" -> reps = Integer.parseInt(args[++i]);
        case "--freeze-ms" -> freezeMs = Long.parseLong(args[++i]);
        case "--json" -> json = Path.of(args[++i]);
        default -> {
          System.err.println("unknown argument " + args[i]);
          System.exit(2);
        }
      }
    }
    List<MigrationReport> buffered = new ArrayList<>();
    List<MigrationReport> unbuffered = new ArrayList<>();
    List<long[]> parts = new ArrayList<>();
    long[] atInstance = new long[1];
    try (LocalCluster cluster = new LocalCluster()) {
      cluster.addWorker("w1", GeoPoint.of(48.14, 11.58));
      cluster.addWorker("w2", GeoPoint.of(52.52, 13.40));
      cluster.addWorker("w3", GeoPoint.of(53.55, 9.99));
      ServiceId svc = ServiceId.of("game", "tum", "state", "prod");
      ServiceId users = ServiceId.of("game", "tum", "player", "prod");
      cluster.deploy(ServiceDescriptor.builder(svc).instances(1).build());
      cluster.deploy(ServiceDescriptor.builder(users).instances(1).build());
      LocalCluster.Instance server = cluster.startInstance("w1", svc, 0);
      LocalCluster.Instance client = cluster.startInstance("w3", users, 0);
      MigrationTraffic.serve(server, UDP, TCP);
      InetAddress target = server.record().instanceIpv4().address();
      // One move first, not counted: the first contacts (tunnel handshakes, route queries) of a
      // fresh cluster are not what a migration costs.
      System.out.println("warm-up " + move(cluster, server, client, target, Duration.ofMillis(freezeMs), true, null));
      for (int k = 0; k < 2 * reps; k++) {
        boolean buffering = k < reps;
        long before = MigrationTraffic.reorderedAtServer(server);
        long[] b = new long[PARTS.length];
        MigrationReport r = move(cluster, server, client, target, Duration.ofMillis(freezeMs), buffering, b);
        System.out.println((buffering ? "buffered   " : "unbuffered ") + r);
        (buffering ? buffered : unbuffered).add(r);
        if (buffering) {
          parts.add(b);
          atInstance[0] += MigrationTraffic.reorderedAtServer(server) - before;
        }
      }
    }
    ObjectNode out = summary(buffered, unbuffered, reps, freezeMs);
    out.put("udp_reordered_at_instance_with_buffer", atInstance[0]);
    out.put("e2e_control_transport", CONTROL_TRANSPORT);
    ObjectNode bd = out.putObject("downtime_breakdown_ms");
    bd.put("what", "network downtime t_first - t_up of the buffered moves = up_to_release (the source node hears the"
        + " root's push and starts replaying: publish + push_apply_source + its control thread) + replay_to_first_reply"
        + " (replay to the new place, the instance, its first echo back to the client). publish = t_pub - t_up (root"
        + " allocates, signs, stores); push_apply_* = t_apply - t_pub at the source, the client's and the destination's"
        + " node (the destination's is when an in-band release signal from it could leave causally)");
    for (int i = 0; i < PARTS.length; i++) {
      int k = i;
      long[] v = parts.stream().mapToLong(x -> x[k]).filter(x -> x != MigrationReport.NOT_MEASURED).sorted().toArray();
      ObjectNode o = bd.putObject(PARTS[i]);
      o.put("p50", v.length == 0 ? null : ms(v[Math.max(0, (int) Math.ceil(0.5 * v.length) - 1)]));
      o.put("p99", v.length == 0 ? null : ms(v[Math.max(0, (int) Math.ceil(0.99 * v.length) - 1)]));
    }
    String text = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out);
    System.out.println(text);
    if (json != null) {
      Files.writeString(json, text + "\n");
      System.out.println("wrote " + json);
    }
  }

  /** One move of {@code server} to the other of w1/w2 under traffic from {@code client}. */
  static MigrationReport move(LocalCluster cluster, LocalCluster.Instance server, LocalCluster.Instance client,
      InetAddress target, Duration freeze, boolean buffering, long[] parts) throws Exception {
    String from = server.node().nodeId();
    String to = server.node().nodeId().equals("w1") ? "w2" : "w1";
    java.util.Map<String, Long> tunnelDrops = tunnelDrops(cluster);
    // The stream runs until 3 s after t_up, however long the freeze and restore took (on a loaded
    // machine wiring namespaces takes seconds), at most 30 s.
    MigrationTraffic.Client c = MigrationTraffic.start(client, target, UDP, TCP, freeze.plusSeconds(30), Duration.ofMillis(1));
    try {
      c.awaitFlowing();
    } catch (IllegalStateException e) {
      System.out.println("control state: " + cluster.controlState(server.record().service(), server.record().ordinal()));
      printCounters(cluster);
      throw e;
    }
    Thread.sleep(300);
    try (Migration m = cluster.migrateStateful(server, to, freeze, buffering)) {
      try {
        m.awaitReleased();
      } catch (IllegalStateException e) {
        System.out.println("control state: " + cluster.controlState(m.instance().service(), m.instance().ordinal()));
        printCounters(cluster);
        throw e;
      }
      MigrationTraffic.Result r = c.stopAt(m.tUp() + AFTER_UP_NANOS).await();
      if (!r.tcpSurvived(m.tUp())) {
        System.out.printf("TCP did not survive: %s, %d responses, last %.1f ms after t_up, longest wait %.1f ms%n",
            r.tcpError(), r.tcpResponses(), (r.tcpLastNanos() - m.tUp()) / 1e6, r.tcpMaxGapNanos() / 1e6);
      }
      MigrationReport report = m.report(r);
      if (parts != null) {
        breakdown(m, report, from, client.node().nodeId(), to, parts);
        System.out.printf("  downtime parts (ms):");
        for (int i = 0; i < PARTS.length; i++) {
          System.out.printf(" %s %.1f", PARTS[i], parts[i] == MigrationReport.NOT_MEASURED ? Double.NaN : parts[i] / 1e6);
        }
        System.out.println();
      }
      java.util.Map<String, Long> after = tunnelDrops(cluster);
      after.replaceAll((w, n) -> n - tunnelDrops.getOrDefault(w, 0L));
      after.values().removeIf(n -> n == 0);
      if (!after.isEmpty() || buffering && report.udpLost() > report.udpSent() / 20) {
        System.out.println("tunnel drops during this move (per node): " + after);
        printCounters(cluster);
      }
      return report;
    }
  }

  /** Prints every node's tunnel links and drops (by reason) and its translator's drop and migration counters, since its start. */
  private static void printCounters(LocalCluster cluster) {
    for (WorkerNode w : cluster.workers()) {
      java.util.Map<String, Long> cs = new java.util.TreeMap<>();
      w.translator().counters().forEach((k, v) -> {
        if (v != 0 && (k.isDrop() || k.name().startsWith("MIGRATION"))) {
          cs.put(k.name(), v);
        }
      });
      System.out.println("  " + w.nodeId() + " (since start): links opened " + w.tunnel().stats().linksOpened()
          + ", tunnel drops " + w.tunnel().stats().drops() + ", translator " + cs);
    }
  }

  /**
   * Fills {@code parts} (nanoseconds, {@link MigrationReport#NOT_MEASURED} where a time is missing)
   * with where t_first - t_up went: see {@link #PARTS}.
   */
  static void breakdown(Migration m, MigrationReport r, String source, String sender, String destination, long[] parts) {
    java.util.Arrays.fill(parts, MigrationReport.NOT_MEASURED);
    long applied = r.tApply().getOrDefault(source, MigrationReport.NOT_MEASURED);
    long senderApplied = r.tApply().getOrDefault(sender, MigrationReport.NOT_MEASURED);
    var hold = m.hold();
    long released = hold == null || hold.releasedAtNanos() == 0 ? MigrationReport.NOT_MEASURED : hold.releasedAtNanos();
    if (released != MigrationReport.NOT_MEASURED) {
      parts[0] = released - m.tUp();
      if (r.tFirst() > 0) {
        parts[1] = r.tFirst() - released;
      }
    }
    parts[2] = m.tPub() - m.tUp();
    if (applied != MigrationReport.NOT_MEASURED) {
      parts[3] = applied - m.tPub();
    }
    if (senderApplied != MigrationReport.NOT_MEASURED) {
      parts[4] = senderApplied - m.tPub();
    }
    long destinationApplied = r.tApply().getOrDefault(destination, MigrationReport.NOT_MEASURED);
    if (destinationApplied != MigrationReport.NOT_MEASURED) {
      parts[5] = destinationApplied - m.tPub();
    }
  }

  private static java.util.Map<String, Long> tunnelDrops(LocalCluster cluster) {
    java.util.Map<String, Long> m = new java.util.TreeMap<>();
    for (WorkerNode w : cluster.workers()) {
      m.put(w.nodeId(), w.tunnel().stats().drops().values().stream().mapToLong(Long::longValue).sum());
    }
    return m;
  }

  static ObjectNode summary(List<MigrationReport> buffered, List<MigrationReport> unbuffered, int reps, long freezeMs) {
    ObjectNode o = new ObjectMapper().createObjectNode();
    o.put("e2e_repetitions", reps);
    o.put("e2e_freeze_ms", freezeMs);
    o.put("network_downtime_ms_p50", ms(pct(buffered, MigrationReport::networkDowntimeNanos, 50)));
    o.put("network_downtime_ms_p99", ms(pct(buffered, MigrationReport::networkDowntimeNanos, 99)));
    o.put("total_downtime_ms_p50", ms(pct(buffered, MigrationReport::totalDowntimeNanos, 50)));
    o.put("network_downtime_ms_p50_without_buffer", ms(pct(unbuffered, MigrationReport::networkDowntimeNanos, 50)));
    o.put("udp_sent_with_buffer", sum(buffered, MigrationReport::udpSent));
    o.put("udp_lost_with_buffer", sum(buffered, MigrationReport::udpLost));
    o.put("udp_duplicated_with_buffer", sum(buffered, MigrationReport::udpDuplicated));
    o.put("udp_reordered_with_buffer", sum(buffered, MigrationReport::udpReordered));
    o.put("udp_buffered", sum(buffered, MigrationReport::buffered));
    o.put("udp_replayed", sum(buffered, MigrationReport::replayed));
    o.put("buffer_overflowed", sum(buffered, MigrationReport::overflowed));
    o.put("udp_sent_without_buffer", sum(unbuffered, MigrationReport::udpSent));
    o.put("udp_lost_without_buffer", sum(unbuffered, MigrationReport::udpLost));
    o.put("dropped_counted_without_buffer", sum(unbuffered, MigrationReport::droppedFrozen));
    o.put("sent_to_old_locator_after_release", sum(buffered, MigrationReport::sentToOldAfterApply)
        + sum(unbuffered, MigrationReport::sentToOldAfterApply));
    o.put("relayed_by_old_node", sum(buffered, MigrationReport::relayed) + sum(unbuffered, MigrationReport::relayed));
    o.put("tcp_survived", buffered.stream().allMatch(r -> Boolean.TRUE.equals(r.tcpSurvived())));
    o.put("tcp_survived_without_buffer", unbuffered.stream().allMatch(r -> Boolean.TRUE.equals(r.tcpSurvived())));
    o.put("tcp_resets", sum(buffered, MigrationReport::tcpResets) + sum(unbuffered, MigrationReport::tcpResets));
    List<MigrationReport> all = new ArrayList<>(buffered);
    all.addAll(unbuffered);
    ObjectNode conv = o.putObject("e2e_convergence_ms");
    conv.put("p50", ms(pct(all, r -> r.convergencePercentile(50), 50)));
    conv.put("p99", ms(pct(all, MigrationReport::convergenceNanos, 99)));
    conv.put("interested_nodes", all.isEmpty() ? 0 : all.get(0).tApply().size());
    o.put("e2e_pushes_per_migration", all.isEmpty() ? 0 : (double) sum(all, MigrationReport::controlMessages) / all.size());
    return o;
  }

  private static long sum(List<MigrationReport> rs, ToLongFunction<MigrationReport> f) {
    return rs.stream().mapToLong(f).filter(v -> v != MigrationReport.NOT_MEASURED).sum();
  }

  /** Nearest-rank percentile over the reports that measured the value, or NOT_MEASURED. */
  private static long pct(List<MigrationReport> rs, ToLongFunction<MigrationReport> f, int p) {
    long[] v = rs.stream().mapToLong(f).filter(x -> x != MigrationReport.NOT_MEASURED).sorted().toArray();
    if (v.length == 0) {
      return MigrationReport.NOT_MEASURED;
    }
    return v[Math.max(0, (int) Math.ceil(p / 100.0 * v.length) - 1)];
  }

  private static Double ms(long nanos) {
    return nanos == MigrationReport.NOT_MEASURED ? null : Math.round(nanos / 1e4) / 100.0;
  }
}
