package io.semnet.bench.migration;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semnet.resolver.transport.ControlTransport;
import io.semnet.resolver.transport.InProcessTransport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Migration convergence, measured: for N interested workers, how long until every one of them has
 * applied a migrated instance's new locator (max over workers of t_apply − t_pub, p50/p99 over
 * repetitions), how many control messages and bytes one migration costs, that no worker sent a
 * table query during the migrations (the new locator is pushed, not re-queried) and that no worker
 * ever went back to an older locator version. In-process for N = 1, 10, 100, 1000 and over a real
 * mosquitto on loopback for N = 1, 10, 50, 1000 (see {@link MigrationScenario}; over MQTT every
 * node has its own broker connection, all of them in this one JVM, see {@link MqttNodeSet}).
 *
 * <pre>
 * java -cp semnet-bench/target/benchmarks.jar io.semnet.bench.migration.MigrationConvergenceBenchmark \
 *     [--ns 1,10,100,1000] [--reps 100] [--mqtt-ns 1,10,50,1000] [--mqtt-reps 100] [--warmup 20] [--json FILE]
 * </pre>
 * {@code --mqtt-ns none} skips MQTT. Exits 1 if a correctness check failed (a worker not on the
 * newest locator, a regression, a query during the migrations), 0 otherwise; the timing floors
 * (100 ms in-process and 200 ms over MQTT at 1,000 workers) are printed, not enforced.
 */
public final class MigrationConvergenceBenchmark {
  private static final double FLOOR_IN_PROCESS_MS = 100;
  private static final double FLOOR_MQTT_MS = 200;

  private MigrationConvergenceBenchmark() {}

  /** What one N measured, ready for the table and the JSON. */
  record Row(String transport, int workers, int reps, double p50ms, double p99ms, double maxms, double messages,
      double pushes, double bytes, long queries, long workerQueries, long regressions, List<String> problems) {
    boolean correct() {
      return queries == 0 && workerQueries == 0 && regressions == 0 && problems.isEmpty();
    }
  }

  public static void main(String[] args) throws Exception {
    int[] ns = {1, 10, 100, 1000};
    int[] mqttNs = {1, 10, 50, 1000};
    int reps = 100;
    int mqttReps = 100;
    int warmup = 20;
    Path json = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--ns" -> ns = ints(args[++i]);
        case "--mqtt-ns" -> mqttNs = ints(args[++i]);
        case "--reps" -> reps = Integer.parseInt(args[++i]);
        case "--mqtt-reps" -> mqttReps = Integer.parseInt(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        case "--json" -> json = Path.of(args[++i]);
        default -> {
          System.err.println("unknown argument " + args[i]);
          System.exit(2);
        }
      }
    }
    List<Row> inProcess = new ArrayList<>();
    for (int n : ns) {
      inProcess.add(measure("in-process", n, reps, warmup, () -> InProcessTransport.builder().threads(2).build()));
    }
    List<Row> mqtt = new ArrayList<>();
    for (int n : mqttNs) {
      mqtt.add(measure("mqtt", n, mqttReps, Math.min(warmup, 5), MqttNodeSet::start));
    }
    System.out.println();
    System.out.printf("%-10s %5s %4s %9s %9s %9s %10s %8s %11s %7s %5s%n", "transport", "N", "reps", "p50 ms", "p99 ms",
        "max ms", "msgs/mig", "push/mig", "bytes/mig", "queries", "regr");
    List<Row> all = new ArrayList<>(inProcess);
    all.addAll(mqtt);
    boolean correct = true;
    for (Row r : all) {
      System.out.printf("%-10s %5d %4d %9.2f %9.2f %9.2f %10.1f %8.1f %11.0f %7d %5d%s%n", r.transport, r.workers, r.reps, r.p50ms,
          r.p99ms, r.maxms, r.messages, r.pushes, r.bytes, r.queries + r.workerQueries, r.regressions,
          r.correct() ? "" : "  WRONG " + r.problems);
      correct &= r.correct();
    }
    System.out.println();
    floor("in-process convergence p99 at N=1000 <= " + FLOOR_IN_PROCESS_MS + " ms", inProcess, 1000, FLOOR_IN_PROCESS_MS);
    double mqttMax = mqtt.stream().mapToInt(Row::workers).max().orElse(-1);
    floor("MQTT convergence p99 at N=" + (int) mqttMax + " <= " + FLOOR_MQTT_MS + " ms", mqtt, (int) mqttMax, FLOOR_MQTT_MS);
    boolean linear = all.stream().allMatch(r -> r.pushes <= r.workers + 2 && r.messages <= r.workers + 2);
    System.out.printf("messages O(N) (<= N + 2 per migration) and no re-queries: %s%n", linear && correct ? "PASS" : "FAIL");
    if (json != null) {
      writeJson(json, inProcess, mqtt);
      System.out.println("wrote " + json);
    }
    System.exit(correct && linear ? 0 : 1);
  }

  private interface TransportFactory {
    ControlTransport create() throws Exception;
  }

  private static Row measure(String what, int n, int reps, int warmup, TransportFactory f) throws Exception {
    Duration setUp = Duration.ofSeconds(60 + n / 5);
    ControlTransport base = f.create();
    MigrationScenario scenario;
    try {
      if (base instanceof MqttNodeSet m) {
        long t0 = System.nanoTime();
        m.connectAhead(MigrationScenario.identities(n), 32);
        System.out.printf("%s N=%d: %d broker connections opened in %.1f s%n", what, n, m.connections(), (System.nanoTime() - t0) / 1e9);
      }
      scenario = new MigrationScenario(base, n, setUp);
    } catch (Exception | Error e) {
      base.close(); // a failed set-up must not leave the broker process behind
      throw e;
    }
    try (MigrationScenario s = scenario) {
      if (base instanceof MqttNodeSet m) {
        System.out.printf("%s N=%d: %d broker connections from this one JVM to one mosquitto%n", what, n, m.connections());
      }
      if (warmup > 0) {
        s.run(warmup, Duration.ofSeconds(30));
      }
      MigrationScenario.Result r = s.run(reps, Duration.ofSeconds(30));
      long[] c = r.convergenceNs.clone();
      Arrays.sort(c);
      CountingTransport.Counts k = r.counts;
      Row row = new Row(what, n, reps, pct(c, 0.50), pct(c, 0.99), c[c.length - 1] / 1e6, (double) k.messages() / reps,
          (double) k.pushes() / reps, (double) k.bytes() / reps, k.queries(), r.workerQueries, r.regressions, r.problems);
      System.out.printf("%s N=%d: p50 %.2f ms, p99 %.2f ms, %.1f messages (%.1f pushes) and %.0f bytes per migration%n",
          what, n, row.p50ms, row.p99ms, row.messages, row.pushes, row.bytes);
      return row;
    }
  }

  /** Nearest-rank percentile, in ms. */
  static double pct(long[] sortedNs, double p) {
    int i = (int) Math.ceil(p * sortedNs.length) - 1;
    return sortedNs[Math.max(0, Math.min(sortedNs.length - 1, i))] / 1e6;
  }

  private static void floor(String what, List<Row> rows, int n, double limitMs) {
    Row r = rows.stream().filter(x -> x.workers == n).findFirst().orElse(null);
    System.out.printf("%s: %s%n", what, r == null ? "not measured" : (r.p99ms <= limitMs ? "PASS" : "FAIL") + String.format(" (p99 %.2f ms)", r.p99ms));
  }

  private static void writeJson(Path file, List<Row> inProcess, List<Row> mqtt) throws Exception {
    ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = m.createObjectNode();
    fill(root, inProcess);
    ObjectNode q = root.putObject("mqtt");
    fill(q, mqtt);
    // The data-path KPIs (downtime, UDP loss, TCP survival) come from the end-to-end run in network
    // namespaces (samples/demo StatefulMigrationBenchmark); e2e/migration.sh merges both files.
    Files.writeString(file, m.writeValueAsString(root) + "\n");
  }

  private static void fill(ObjectNode o, List<Row> rows) {
    ObjectNode conv = o.putObject("convergence_ms");
    ObjectNode msgs = o.putObject("messages_per_migration");
    ObjectNode pushes = o.putObject("pushes_per_migration");
    ObjectNode bytes = o.putObject("bytes_per_migration");
    ObjectNode queries = o.putObject("queries_during_migrations");
    ObjectNode regr = o.putObject("regressions");
    ObjectNode reps = o.putObject("repetitions");
    for (Row r : rows) {
      String k = Integer.toString(r.workers);
      ObjectNode c = conv.putObject(k);
      c.put("p50", round(r.p50ms));
      c.put("p99", round(r.p99ms));
      c.put("max", round(r.maxms));
      msgs.put(k, round(r.messages));
      pushes.put(k, round(r.pushes));
      bytes.put(k, round(r.bytes));
      queries.put(k, r.queries + r.workerQueries);
      regr.put(k, r.regressions);
      reps.put(k, r.reps);
    }
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  private static int[] ints(String csv) {
    if (csv.equals("none")) {
      return new int[0];
    }
    return Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
  }
}
