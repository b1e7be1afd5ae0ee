/**
 * SemNet's metrics and inspection: {@link io.semnet.metrics.NodeMetrics} binds any
 * {@link io.semnet.core.stats.StatsSource} (a {@code WorkerNode} reports all its parts) to an
 * embedder's Micrometer {@code MeterRegistry}; {@link io.semnet.metrics.NodeAdmin} adds
 * {@code /metrics} (Prometheus text), {@code /flows}, {@code /links} and {@code /routes} (JSON) to a
 * node's {@code AdminServer}; {@code io.semnet.metrics.cli.SemnetInspect} prints them as tables.
 * The series binding lives in {@code io.semnet.metrics.internal}.
 */
module io.semnet.metrics {
  requires transitive io.semnet.node;
  requires transitive micrometer.core;
  requires transitive micrometer.registry.prometheus;
  requires com.fasterxml.jackson.databind;
  requires info.picocli;
  requires java.net.http;
  requires org.slf4j;

  exports io.semnet.metrics;
  exports io.semnet.metrics.cli;

  opens io.semnet.metrics.cli to info.picocli;
}
