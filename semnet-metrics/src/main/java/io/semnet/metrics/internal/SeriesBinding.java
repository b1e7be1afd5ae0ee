package io.semnet.metrics.internal;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.semnet.core.stats.Stat;
import io.semnet.core.stats.StatsSource;
import io.semnet.core.stats.StatsVisitor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one Micrometer meter per series (stat and label values) a {@link StatsSource} reports:
 * each {@link #refresh()} visits the source, stores the values the meters read, registers a meter
 * for a series seen the first time and removes the meters of series no longer reported (a peer
 * that went away). Series per stat are capped ({@link #MAX_SERIES_PER_STAT}); beyond the cap new
 * series are ignored and counted. A series reported several times in one visit (the same stat of
 * several sources combined with {@link StatsSource#of}) is their sum; meters see a visit's values
 * only once it is complete. Counters become {@link FunctionCounter}s, gauges {@link Gauge}s.
 * Not thread-safe by itself: the owner serialises refreshes.
 */
public final class SeriesBinding implements StatsVisitor {
  /** Most series kept per stat, whatever a source reports (a guard behind the sources' own bounds). */
  public static final int MAX_SERIES_PER_STAT = 1_000;
  private static final Logger log = LoggerFactory.getLogger(SeriesBinding.class);
  private static final String NONE = "";

  /** One series' current value, read by its meter. */
  static final class Series {
    volatile double value;
    /** The sum reported in the visit under way (sources combined with StatsSource.of add up). */
    double pending;
    Meter meter;
    long generation;
  }

  private final StatsSource source;
  private final MeterRegistry registry;
  private final Map<Stat, Map<String, Map<String, Series>>> series = new HashMap<>();
  private final Map<Stat, Integer> counts = new HashMap<>();
  private long generation;
  private long ignored;

  public SeriesBinding(StatsSource source, MeterRegistry registry) {
    this.source = source;
    this.registry = registry;
  }

  /** Reads the source and brings the registry's meters in line with what it reported. */
  public void refresh() {
    generation++;
    source.reportTo(this);
    for (Map<String, Map<String, Series>> byFirst : series.values()) {
      for (Map<String, Series> bySecond : byFirst.values()) {
        for (Iterator<Series> it = bySecond.values().iterator(); it.hasNext(); ) {
          Series s = it.next();
          if (s.generation != generation) {
            registry.remove(s.meter);
            it.remove();
          } else {
            s.value = s.pending;
          }
        }
      }
    }
    counts.replaceAll((stat, n) -> 0);
    series.forEach((stat, byFirst) -> byFirst.values().forEach(m -> counts.merge(stat, m.size(), Integer::sum)));
  }

  /** Removes every meter this binding registered. */
  public void removeAll() {
    for (Map<String, Map<String, Series>> byFirst : series.values()) {
      for (Map<String, Series> bySecond : byFirst.values()) {
        bySecond.values().forEach(s -> registry.remove(s.meter));
      }
    }
    series.clear();
    counts.clear();
  }

  /** Series ignored because their stat had {@link #MAX_SERIES_PER_STAT} already. */
  public long ignoredSeries() {
    return ignored;
  }

  @Override
  public void value(Stat stat, double value) {
    put(stat, 0, NONE, NONE, value);
  }

  @Override
  public void value(Stat stat, String label, double value) {
    put(stat, 1, label, NONE, value);
  }

  @Override
  public void value(Stat stat, String label1, String label2, double value) {
    put(stat, 2, label1, label2, value);
  }

  private void put(Stat stat, int arity, String l1, String l2, double value) {
    if (stat.labels().size() != arity) {
      throw new IllegalArgumentException(stat + " reported with " + arity + " label values");
    }
    String a = l1 == null ? "none" : l1;
    String b = l2 == null ? "none" : l2;
    Map<String, Series> bySecond = series.computeIfAbsent(stat, k -> new HashMap<>()).computeIfAbsent(a, k -> new HashMap<>());
    Series s = bySecond.get(b);
    if (s == null) {
      int n = counts.getOrDefault(stat, 0);
      if (n >= MAX_SERIES_PER_STAT) {
        if (ignored++ == 0) {
          log.warn("{} reports more than {} series; the rest are ignored", stat, MAX_SERIES_PER_STAT);
        }
        return;
      }
      counts.put(stat, n + 1);
      s = new Series();
      s.meter = register(stat, tags(stat, a, b), s);
      bySecond.put(b, s);
    }
    if (s.generation == generation) {
      s.pending += value;
    } else {
      s.pending = value;
      s.generation = generation;
    }
  }

  private static Tags tags(Stat stat, String a, String b) {
    List<String> kv = new ArrayList<>(4);
    List<String> names = stat.labels();
    if (names.size() > 0) {
      kv.add(names.get(0));
      kv.add(a);
    }
    if (names.size() > 1) {
      kv.add(names.get(1));
      kv.add(b);
    }
    return Tags.of(kv.toArray(new String[0]));
  }

  private Meter register(Stat stat, Tags tags, Series s) {
    if (stat.kind() == Stat.Kind.COUNTER) {
      return FunctionCounter.builder(stat.name(), s, x -> x.value).description(stat.help()).tags(tags).register(registry);
    }
    return Gauge.builder(stat.name(), s, x -> x.value).description(stat.help()).tags(tags).strongReference(true)
        .register(registry);
  }
}
