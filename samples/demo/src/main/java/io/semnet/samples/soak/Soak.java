package io.semnet.samples.soak;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.semnet.control.ServiceDescriptor;
import io.semnet.core.address.Addresses;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.samples.cluster.ProcessCluster;
import io.semnet.samples.cluster.Shell;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The soak ({@code semnet-bench/e2e/soak.sh}): mosquitto with TLS, a controller process and two
 * agent processes ({@link ProcessCluster}, default JVM options); an {@code echo} service with one
 * instance on each agent and a load instance on w1 that starts new flows to the {@code rr} ServiceIP
 * at the given rate (half TCP connections, half UDP exchanges from fresh ports). Every few minutes
 * (every quarter of a short run) one echo instance is killed ({@code agent detach}) and restarted
 * half a period later ({@code agent attach}). Every few seconds each agent process is sampled: heap
 * after a full GC and direct buffers (JMX through the Attach API), open file descriptors and RSS
 * ({@code /proc}), flow-table size and drops ({@code /metrics}). Writes JSON and a PNG; the verdict
 * is {@link SoakSeries#judge()}'s. Exit code 0 if it passes, 1 if not.
 *
 * <pre>[--duration 2m|1h|90s] [--rate 10000] [--json FILE] [--png FILE]</pre>
 */
public final class Soak {
  private static final int PORT = 7007;

  /** The soak's parameters. */
  public record Options(Duration duration, int ratePerMinute, Path json, Path png) {}

  /** The outcome: whether every check passed, and the checks as text. */
  public record Result(boolean pass, List<String> checks) {}

  private Soak() {}

  public static void main(String[] args) throws Exception {
    Duration duration = Duration.ofMinutes(2);
    int rate = 10_000;
    Path json = Path.of("soak.json");
    Path png = Path.of("soak.png");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--duration" -> duration = parseDuration(args[++i]);
        case "--rate" -> rate = Integer.parseInt(args[++i]);
        case "--json" -> json = Path.of(args[++i]);
        case "--png" -> png = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]
            + " (use --duration 2m|1h|90s --rate N --json FILE --png FILE)");
      }
    }
    Result r = run(new Options(duration, rate, json, png));
    System.exit(r.pass() ? 0 : 1);
  }

  static Duration parseDuration(String s) {
    long n = Long.parseLong(s.substring(0, s.length() - 1));
    return switch (s.charAt(s.length() - 1)) {
      case 's' -> Duration.ofSeconds(n);
      case 'm' -> Duration.ofMinutes(n);
      case 'h' -> Duration.ofHours(n);
      default -> throw new IllegalArgumentException("duration like 90s, 2m or 1h: " + s);
    };
  }

  /** Runs the soak; writes the JSON and PNG; tears the cluster down. */
  public static Result run(Options o) throws Exception {
    long seconds = o.duration().toSeconds();
    boolean longRun = seconds >= 600;
    long sampleEvery = longRun ? 15 : 5;
    long killEvery = longRun ? 300 : Math.max(10, seconds / 4);
    double warmup = Math.min(seconds / 4.0, 300);
    Path scripts = Files.createTempDirectory("semnet-soak");
    try (ProcessCluster cluster = new ProcessCluster(ProcessCluster.jar("agent"), ProcessCluster.jar("controller"), "")) {
      log("control plane and two agents");
      cluster.startControlPlane();
      cluster.addWorker("w1", ProcessCluster.Link.DIRECT, GeoPoint.of(48.14, 11.58));
      cluster.addWorker("w2", ProcessCluster.Link.DIRECT, GeoPoint.of(48.14, 11.58));
      ServiceId echo = ServiceId.of("soak", "perf", "echo", "prod");
      ServiceId client = ServiceId.of("soak", "perf", "load", "prod");
      ServiceRecord r = ProcessCluster.retry(() -> cluster.orchestration().deploy(ServiceDescriptor.builder(echo).instances(2).build()));
      ProcessCluster.retry(() -> cluster.orchestration().deploy(ServiceDescriptor.builder(client).instances(1).build()));
      String serviceIp = Addresses.format(r.serviceIp("rr", true).address());
      Path echoPy = copy(scripts, "echo.py");
      Path loadPy = copy(scripts, "load.py");
      List<ProcessCluster.Instance> echoes = List.of(cluster.startInstance("w1", echo, 0), cluster.startInstance("w2", echo, 1));
      Process[] servers = new Process[2];
      for (int i = 0; i < 2; i++) {
        servers[i] = startEcho(echoes.get(i), echoPy, scripts);
      }
      ProcessCluster.Instance c = cluster.startInstance("w1", client, 0);
      ProcessCluster.waitFor(() -> c.run(5, "python3", "-c", "import socket;s=socket.create_connection(('" + serviceIp + "'," + PORT
          + "),1);s.sendall(b'x\\n');assert s.recv(4)").ok(), 60, "the echo service answering at " + serviceIp);
      List<String> workers = List.of("w1", "w2");
      List<Long> pids = cluster.agentPids();
      SoakSeries series = new SoakSeries(workers, seconds, warmup, o.ratePerMinute());
      List<JvmProbe> probes = new ArrayList<>();
      ScheduledExecutorService chaos = Executors.newSingleThreadScheduledExecutor();
      try {
        for (long pid : pids) {
          probes.add(new JvmProbe(pid));
        }
        log("load: " + o.ratePerMinute() + " new flows/min to rr " + serviceIp + ":" + PORT + " for " + seconds + " s; kill every "
            + killEvery + " s; sample every " + sampleEvery + " s");
        Path loadLog = scripts.resolve("load.log");
        Process load = Shell.start(c.namespace(), loadLog, "python3", loadPy.toString(), serviceIp, Integer.toString(PORT),
            Integer.toString(o.ratePerMinute()), Long.toString(seconds));
        long t0 = System.nanoTime();
        for (long k = 1; k * killEvery < seconds; k++) {
          int victim = (int) (k % 2 == 1 ? 1 : 0);
          chaos.schedule(() -> {
            ProcessCluster.Instance i = echoes.get(victim);
            series.event(since(t0), "kill " + i.label());
            Shell.kill(servers[victim]);
            cluster.kill(i);
            log("killed and detached " + i.label());
          }, k * killEvery, TimeUnit.SECONDS);
          chaos.schedule(() -> {
            ProcessCluster.Instance i = echoes.get(victim);
            cluster.restart(i);
            servers[victim] = startEcho(i, echoPy, scripts);
            series.event(since(t0), "restart " + i.label());
            log("restarted " + i.label());
          }, k * killEvery + killEvery / 2, TimeUnit.SECONDS);
        }
        for (long next = 0; next <= seconds; next += sampleEvery) {
          long wait = TimeUnit.SECONDS.toNanos(next) - (System.nanoTime() - t0);
          if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
          }
          sampleOrMiss(series, since(t0), cluster, workers, probes);
        }
        load.waitFor(10, TimeUnit.SECONDS);
        Shell.kill(load);
        series.load.putAll(lastLoadLine(loadLog));
      } finally {
        chaos.shutdownNow();
        chaos.awaitTermination(60, TimeUnit.SECONDS);
        probes.forEach(JvmProbe::close);
        for (Process p : servers) {
          Shell.kill(p);
        }
      }
      boolean pass = series.judge();
      series.writeJson(o.json(), pass);
      SoakPlot.write(series, pass, o.png());
      List<String> lines = new ArrayList<>();
      series.checks.forEach(ch -> lines.add(String.format("%s %-22s first %.0f last %.3f limit %.3f  (%s)", ch.pass() ? "ok  " : "FAIL",
          ch.series(), ch.first(), ch.last(), ch.limit(), ch.rule())));
      log("load: " + series.load);
      lines.forEach(Soak::log);
      log((pass ? "PASS" : "FAIL") + "; wrote " + o.json() + " and " + o.png());
      return new Result(pass, lines);
    } finally {
      try (var s = Files.walk(scripts)) {
        s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /**
   * Takes one sample, retried once after 2 s: an agent busy enough not to answer {@code /metrics}
   * or the probe within its timeout (seen at load 30) costs that sample, recorded as missed, not
   * the run.
   */
  private static void sampleOrMiss(SoakSeries series, double t, ProcessCluster cluster, List<String> workers, List<JvmProbe> probes)
      throws InterruptedException {
    for (int attempt = 1; ; attempt++) {
      try {
        series.add(t, sample(cluster, workers, probes));
        return;
      } catch (IOException | RuntimeException e) {
        if (attempt == 2) {
          series.missed(t, e.toString());
          log("sample at " + Math.round(t) + " s missed: " + e);
          return;
        }
        TimeUnit.SECONDS.sleep(2);
      }
    }
  }

  private static Map<String, Map<SoakSeries.Metric, Long>> sample(ProcessCluster cluster, List<String> workers, List<JvmProbe> probes)
      throws IOException {
    Map<String, Map<SoakSeries.Metric, Long>> s = new LinkedHashMap<>();
    for (int i = 0; i < workers.size(); i++) {
      JvmProbe.Reading r = probes.get(i).read();
      Map<String, Double> m = prometheus(cluster.metrics(workers.get(i)));
      Map<SoakSeries.Metric, Long> v = new EnumMap<>(SoakSeries.Metric.class);
      v.put(SoakSeries.Metric.HEAP_AFTER_GC, r.heapAfterGc());
      v.put(SoakSeries.Metric.DIRECT, r.direct());
      v.put(SoakSeries.Metric.FDS, r.fds());
      v.put(SoakSeries.Metric.RSS, r.rss());
      v.put(SoakSeries.Metric.FLOWS, Math.round(m.getOrDefault("semnet_translator_flows", -1.0)));
      v.put(SoakSeries.Metric.DROPS, Math.round(m.getOrDefault("semnet_translator_drops_total", -1.0)));
      s.put(workers.get(i), v);
    }
    return s;
  }

  /** Sums every series of each metric name in Prometheus text. */
  static Map<String, Double> prometheus(String text) {
    Map<String, Double> sums = new LinkedHashMap<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int end = line.indexOf('{') >= 0 ? line.indexOf('{') : line.indexOf(' ');
      String value = line.substring(line.lastIndexOf(' ') + 1);
      try {
        sums.merge(line.substring(0, end), Double.parseDouble(value), Double::sum);
      } catch (NumberFormatException | StringIndexOutOfBoundsException ignored) {
        // not a sample line
      }
    }
    return sums;
  }

  private static Map<String, Object> lastLoadLine(Path log) throws IOException {
    List<String> lines = Files.readAllLines(log);
    for (int i = lines.size() - 1; i >= 0; i--) {
      if (lines.get(i).startsWith("{")) {
        JsonNode n = new ObjectMapper().readTree(lines.get(i));
        Map<String, Object> m = new LinkedHashMap<>();
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
          String f = it.next();
          m.put(f, n.get(f).numberValue());
        }
        return m;
      }
    }
    return Map.of("error", "no counts from the load: " + String.join(" | ", lines));
  }

  private static Process startEcho(ProcessCluster.Instance i, Path echoPy, Path dir) {
    Process p = Shell.start(i.namespace(), dir.resolve(i.namespace() + "-echo.log"), "python3", echoPy.toString(), Integer.toString(PORT));
    ProcessCluster.waitFor(() -> i.run(5, "python3", "-c", "import socket;s=socket.create_connection(('127.0.0.1'," + PORT
        + "),1);s.sendall(b'x\\n');assert s.recv(4)").ok(), 30, "echo server of " + i.label());
    return p;
  }

  private static Path copy(Path dir, String name) throws IOException {
    try (InputStream in = Soak.class.getResourceAsStream(name)) {
      Path p = dir.resolve(name);
      Files.copy(in, p);
      return p;
    }
  }

  private static double since(long t0) {
    return Math.round((System.nanoTime() - t0) / 1e8) / 10.0;
  }

  private static void log(String s) {
    System.out.println("[soak] " + s);
    System.out.flush();
  }
}
