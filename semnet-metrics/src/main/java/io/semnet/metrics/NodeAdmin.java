package io.semnet.metrics;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.semnet.core.stats.StatsSource;
import io.semnet.metrics.internal.InspectionJson;
import io.semnet.node.WorkerNode;
import io.semnet.node.admin.AdminResponse;
import io.semnet.node.admin.AdminServer;
import java.util.Map;
import java.util.Objects;

/**
 * A node's metrics and inspection endpoints on its {@link AdminServer} (which binds to loopback by
 * default and requires a bearer token elsewhere):
 *
 * <ul>
 *   <li>{@code /metrics}: every series the node reports, in the Prometheus text format (refreshed
 *       on each scrape);
 *   <li>{@code /flows?limit=N}: the translator's flows (5-tuple, translated addresses, instance,
 *       peer, age, bytes), at most {@code N} (default {@value #DEFAULT_LIMIT}, at most
 *       {@value #MAX_LIMIT});
 *   <li>{@code /links?limit=N}: the tunnel's links (peer, endpoint, RTT, key age, counters);
 *   <li>{@code /routes?limit=N}: the routes the resolver holds (service, version, instances,
 *       ejected ones).
 * </ul>
 *
 * <pre>{@code
 * NodeAdmin admin = NodeAdmin.of(node);
 * AdminServer server = admin.install(AdminServer.builder()).build().start();
 * }</pre>
 *
 * A limit that is not a number in range is answered {@code 400}. Thread-safe.
 */
public final class NodeAdmin implements AutoCloseable {
  /** Rows returned when no {@code limit} is given. */
  public static final int DEFAULT_LIMIT = 1_000;
  /** The largest {@code limit} accepted. */
  public static final int MAX_LIMIT = 100_000;

  private final WorkerNode node;
  private final MetricsEndpoint metrics;

  private NodeAdmin(WorkerNode node, MetricsEndpoint metrics) {
    this.node = Objects.requireNonNull(node, "node");
    this.metrics = metrics;
  }

  /**
   * Endpoints for {@code node} with a Prometheus registry of their own, refreshed on each scrape;
   * {@code /metrics} serves the node's series and those of {@code more} sources (e.g. the node's
   * {@code MqttTransport}).
   */
  public static NodeAdmin of(WorkerNode node, StatsSource... more) {
    StatsSource[] all = new StatsSource[more.length + 1];
    all[0] = node;
    System.arraycopy(more, 0, all, 1, more.length);
    return new NodeAdmin(node, new MetricsEndpoint(StatsSource.of(all)));
  }

  /**
   * Endpoints for {@code node} serving {@code registry}, to which the embedder bound {@code metrics}
   * (and anything else it wants scraped); closing this admin closes neither.
   */
  public static NodeAdmin of(WorkerNode node, NodeMetrics metrics, PrometheusMeterRegistry registry) {
    return new NodeAdmin(node, new MetricsEndpoint(metrics, registry));
  }

  /** The registry {@code /metrics} serves. */
  public PrometheusMeterRegistry registry() {
    return metrics.registry();
  }

  /** Adds the four endpoints to {@code server}; returns it. */
  public AdminServer.Builder install(AdminServer.Builder server) {
    return server
        .endpoint("/metrics", metrics)
        .endpoint("/flows", q -> limited(q, n -> InspectionJson.flows(node, n)))
        .endpoint("/links", q -> limited(q, n -> InspectionJson.links(node, n)))
        .endpoint("/routes", q -> limited(q, n -> InspectionJson.routes(node, n)));
  }

  /** A JSON document of at most {@code limit} rows. */
  @FunctionalInterface
  private interface Document {
    byte[] build(int limit) throws Exception;
  }

  private static AdminResponse limited(Map<String, String> query, Document doc) throws Exception {
    String s = query.getOrDefault("limit", Integer.toString(DEFAULT_LIMIT));
    int n;
    try {
      n = Integer.parseInt(s);
    } catch (NumberFormatException e) {
      n = -1;
    }
    if (n < 0 || n > MAX_LIMIT) {
      return AdminResponse.text(400, "limit must be an integer from 0 to " + MAX_LIMIT + "\n");
    }
    return new AdminResponse(200, AdminResponse.JSON, doc.build(n));
  }

  /** Closes the metrics and registry this admin created (nothing when they were given). */
  @Override
  public void close() {
    metrics.close();
  }
}
