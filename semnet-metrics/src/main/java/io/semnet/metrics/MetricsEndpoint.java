package io.semnet.metrics;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.semnet.core.stats.StatsSource;
import io.semnet.node.admin.AdminEndpoint;
import io.semnet.node.admin.AdminResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * A {@code /metrics} endpoint for an {@link io.semnet.node.admin.AdminServer}: the series of a
 * {@link StatsSource} (a node, a controller's transports, or several combined with
 * {@link StatsSource#of}) in the Prometheus text format, read afresh on every scrape. It owns its
 * Prometheus registry unless given one; {@link #close()} removes its meters (and closes an owned
 * registry). Thread-safe.
 *
 * <pre>{@code
 * MetricsEndpoint metrics = new MetricsEndpoint(StatsSource.of(rootTransport, clusterTransport));
 * AdminServer.builder().endpoint("/metrics", metrics).build().start();
 * }</pre>
 */
public final class MetricsEndpoint implements AdminEndpoint, AutoCloseable {
  private final NodeMetrics metrics;
  private final PrometheusMeterRegistry registry;
  private final boolean owned;

  /** Serves {@code source} from a registry of its own. */
  public MetricsEndpoint(StatsSource source) {
    this(NodeMetrics.of(source, Duration.ZERO), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), true);
    metrics.bindTo(registry);
  }

  /**
   * Serves {@code registry}, refreshing {@code metrics} (which the caller bound to it, with
   * whatever else it registers there) before each scrape; closing this endpoint closes neither.
   */
  public MetricsEndpoint(NodeMetrics metrics, PrometheusMeterRegistry registry) {
    this(metrics, registry, false);
  }

  private MetricsEndpoint(NodeMetrics metrics, PrometheusMeterRegistry registry, boolean owned) {
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.registry = Objects.requireNonNull(registry, "registry");
    this.owned = owned;
  }

  /** The registry scraped. */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Refreshes the series, then answers the registry's scrape. */
  @Override
  public AdminResponse handle(Map<String, String> query) {
    metrics.refresh();
    return new AdminResponse(200, AdminResponse.PROMETHEUS_TEXT, registry.scrape().getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public void close() {
    if (owned) {
      metrics.close();
      registry.close();
    }
  }
}
