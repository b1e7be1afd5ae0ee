package io.semnet.samples.soak;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The soak's time series per agent, its events and its verdict. The verdict (documented in
 * {@code semnet-bench/e2e/README.md}) ignores a warm-up, splits the rest in thirds and compares
 * medians of the last third against the first: heap after GC and direct memory may grow by at most
 * 10 % (at least 1 MiB), open file descriptors by at most 5; the flow table must stay within what
 * the idle timeouts allow (every flow expires at most 60 s after its last packet, so at most 1.5 ×
 * the flows started per minute) and, in runs of 10 minutes or more, also pass the 10 % trend test.
 * A sample an agent does not answer in time (retried once) is recorded as missed, with an event;
 * at most 10 % of the samples may be missed. Resident memory and drops are recorded, not judged
 * (drops come with the kills by design).
 */
final class SoakSeries {
  /** What is sampled, with its JSON name and plot unit divisor. */
  enum Metric {
    HEAP_AFTER_GC("heapAfterGcBytes", "heap after GC (MiB)", 1 << 20),
    DIRECT("directBytes", "direct buffers (MiB)", 1 << 20),
    FDS("openFds", "open file descriptors", 1),
    FLOWS("flows", "flow-table size", 1),
    DROPS("dropsTotal", "translator drops (total)", 1),
    RSS("rssBytes", "resident set (MiB)", 1 << 20);

    final String json;
    final String title;
    final double unit;

    Metric(String json, String title, double unit) {
      this.json = json;
      this.title = title;
      this.unit = unit;
    }
  }

  /** A verdict line: the series, the rule, the medians compared and the limit. */
  record Check(String series, String rule, double first, double last, double limit, boolean pass) {}

  /** Something the soak did at a time (seconds since the load started). */
  record Event(double t, String what) {}

  private static final long MIB = 1 << 20;

  final List<String> workers;
  final List<Double> times = new ArrayList<>();
  final Map<String, Map<Metric, List<Long>>> values = new LinkedHashMap<>();
  final List<Event> events = new ArrayList<>();
  final Map<String, Object> load = new LinkedHashMap<>();
  final List<Check> checks = new ArrayList<>();
  int missed;
  final double warmupSeconds;
  final double durationSeconds;
  final int ratePerMinute;

  SoakSeries(List<String> workers, double durationSeconds, double warmupSeconds, int ratePerMinute) {
    this.workers = List.copyOf(workers);
    this.durationSeconds = durationSeconds;
    this.warmupSeconds = warmupSeconds;
    this.ratePerMinute = ratePerMinute;
    for (String w : workers) {
      Map<Metric, List<Long>> m = new EnumMap<>(Metric.class);
      for (Metric k : Metric.values()) {
        m.put(k, new ArrayList<>());
      }
      values.put(w, m);
    }
  }

  synchronized void event(double t, String what) {
    events.add(new Event(t, what));
  }

  /** Adds one sample: for each worker (in order) a value per metric. */
  synchronized void add(double t, Map<String, Map<Metric, Long>> sample) {
    times.add(t);
    sample.forEach((w, m) -> m.forEach((k, v) -> values.get(w).get(k).add(v)));
  }

  /** Records a sample that could not be taken at {@code t}, and why. */
  synchronized void missed(double t, String why) {
    missed++;
    events.add(new Event(t, "sample missed: " + why));
  }

  /** Computes the checks; true if all pass. */
  synchronized boolean judge() {
    checks.clear();
    int from = 0;
    while (from < times.size() && times.get(from) < warmupSeconds) {
      from++;
    }
    int n = times.size() - from;
    if (n < 3) {
      checks.add(new Check("samples", "at least 3 after the warm-up", n, n, 3, false));
      return false;
    }
    int third = n / 3;
    int taken = times.size() + missed;
    checks.add(new Check("samples missed", "at most 10 % of the samples missed (agent or probe silent, retried once)", taken, missed,
        0.10 * taken, missed <= 0.10 * taken));
    for (String w : workers) {
      Map<Metric, List<Long>> m = values.get(w);
      for (Metric k : List.of(Metric.HEAP_AFTER_GC, Metric.DIRECT)) {
        double first = median(m.get(k), from, from + third);
        double last = median(m.get(k), times.size() - third, times.size());
        double limit = Math.max(first * 1.10, first + MIB);
        checks.add(new Check(w + " " + k.json, "last-third median <= first-third median +10 % (at least +1 MiB)", first, last, limit,
            last <= limit));
      }
      double firstFds = median(m.get(Metric.FDS), from, from + third);
      double lastFds = median(m.get(Metric.FDS), times.size() - third, times.size());
      checks.add(new Check(w + " openFds", "last-third median <= first-third median + 5", firstFds, lastFds, firstFds + 5,
          lastFds <= firstFds + 5));
      double maxFlows = m.get(Metric.FLOWS).subList(from, times.size()).stream().mapToLong(Long::longValue).max().orElse(0);
      double bound = 1.5 * ratePerMinute;
      checks.add(new Check(w + " flows", "max after warm-up <= 1.5 x flows started per minute (idle timeouts <= 60 s)", 0, maxFlows,
          bound, maxFlows <= bound));
      if (durationSeconds >= 600) {
        double first = median(m.get(Metric.FLOWS), from, from + third);
        double last = median(m.get(Metric.FLOWS), times.size() - third, times.size());
        checks.add(new Check(w + " flows trend", "last-third median <= first-third median +10 % (+100)", first, last,
            first * 1.10 + 100, last <= first * 1.10 + 100));
      }
    }
    for (String proto : List.of("tcp", "udp")) {
      long ok = ((Number) load.getOrDefault(proto + "_ok", 0)).longValue();
      long fail = ((Number) load.getOrDefault(proto + "_fail", 0)).longValue();
      double share = ok + fail == 0 ? 0 : ok / (double) (ok + fail);
      checks.add(new Check("load " + proto, "share of flows answered >= 0.5 (kills make some fail)", ok + fail, share, 0.5,
          share >= 0.5));
    }
    return checks.stream().allMatch(Check::pass);
  }

  static double median(List<Long> v, int from, int to) {
    long[] a = v.subList(from, to).stream().mapToLong(Long::longValue).toArray();
    Arrays.sort(a);
    return a.length == 0 ? 0 : a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2.0;
  }

  synchronized void writeJson(Path file, boolean pass) throws IOException {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("durationSeconds", durationSeconds);
    root.put("ratePerMinute", ratePerMinute);
    root.put("warmupSeconds", warmupSeconds);
    root.put("pass", pass);
    root.put("missedSamples", missed);
    root.put("checks", checks);
    root.put("load", load);
    root.put("events", events);
    root.put("t", times);
    Map<String, Object> series = new LinkedHashMap<>();
    values.forEach((w, m) -> {
      Map<String, Object> s = new LinkedHashMap<>();
      m.forEach((k, v) -> s.put(k.json, v));
      series.put(w, s);
    });
    root.put("series", series);
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), root);
  }
}
