package io.semnet.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.semnet.core.stats.StatsSource;
import io.semnet.metrics.internal.SeriesBinding;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds a {@link StatsSource} (typically a {@code WorkerNode}, which reports every part of the
 * node) to Micrometer meters in registries the embedder owns:
 *
 * <pre>{@code
 * NodeMetrics metrics = NodeMetrics.of(node);   // a daemon thread refreshes every 5 s
 * metrics.bindTo(registry);                     // any MeterRegistry: Prometheus, OTLP, JMX ...
 * }</pre>
 *
 * <p>Guarantees: each series (stat and label values) is one meter named as the stat
 * ({@code semnet.translator.new.flows} becomes {@code semnet_translator_new_flows_total} in
 * Prometheus), with the stat's label names as tags; a series the source stops reporting (a peer
 * gone) has its meter removed at the next refresh. Cardinality is what the sources bound
 * (per-ServiceIP series: the first 64 addresses, then {@code other}; peers: the tunnel's link
 * limit) and at most {@value SeriesBinding#MAX_SERIES_PER_STAT} series per stat here. Values are as
 * fresh as the last {@link #refresh()}: by the refresh thread, or by a scraper that calls it first
 * (semnet's {@code /metrics} does). Reading the sources never touches the data path. Thread-safe.
 */
public final class NodeMetrics implements MeterBinder, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NodeMetrics.class);

  private final StatsSource source;
  private final List<SeriesBinding> bindings = new ArrayList<>();
  private final ScheduledExecutorService refresher;
  private boolean closed;

  private NodeMetrics(StatsSource source, Duration every) {
    this.source = Objects.requireNonNull(source, "source");
    if (every.isZero()) {
      refresher = null;
    } else {
      refresher = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "semnet-metrics");
        t.setDaemon(true);
        return t;
      });
      long ms = Math.max(100, every.toMillis());
      refresher.scheduleWithFixedDelay(this::refreshQuietly, ms, ms, TimeUnit.MILLISECONDS);
    }
  }

  /** Metrics of {@code source}, refreshed every 5 seconds by a daemon thread. */
  public static NodeMetrics of(StatsSource source) {
    return new NodeMetrics(source, Duration.ofSeconds(5));
  }

  /** Metrics of {@code source}, refreshed every {@code every} by a daemon thread, or only on demand if zero. */
  public static NodeMetrics of(StatsSource source, Duration every) {
    if (every.isNegative()) {
      throw new IllegalArgumentException("negative refresh interval: " + every);
    }
    return new NodeMetrics(source, every);
  }

  /** Registers the source's series in {@code registry} (read once now); may be called for several registries. */
  @Override
  public synchronized void bindTo(MeterRegistry registry) {
    if (closed) {
      throw new IllegalStateException("closed");
    }
    SeriesBinding b = new SeriesBinding(source, registry);
    b.refresh();
    bindings.add(b);
  }

  /** Reads the source now and updates every bound registry (new series registered, vanished ones removed). */
  public synchronized void refresh() {
    for (SeriesBinding b : bindings) {
      b.refresh();
    }
  }

  private void refreshQuietly() {
    try {
      refresh();
    } catch (RuntimeException e) {
      log.warn("metrics refresh failed", e);
    }
  }

  /** Stops the refresh thread and removes every meter registered. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (refresher != null) {
      refresher.shutdownNow();
    }
    bindings.forEach(SeriesBinding::removeAll);
    bindings.clear();
  }
}
