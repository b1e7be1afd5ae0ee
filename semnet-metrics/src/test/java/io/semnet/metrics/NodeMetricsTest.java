package io.semnet.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.semnet.core.stats.Stat;
import io.semnet.core.stats.StatsSource;
import io.semnet.metrics.internal.SeriesBinding;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The Micrometer binding: counters and gauges with their labels as tags, Prometheus names, series
 * that appear and vanish with what the source reports, the per-stat cap, and label-count mistakes.
 */
class NodeMetricsTest {
  private static final Stat DROPS = Stat.counter("semnet.test.drops", "Test drops", "reason");
  private static final Stat RTT = Stat.gauge("semnet.test.rtt.seconds", "Test RTT", "peer");
  private static final Stat FLOWS = Stat.counter("semnet.test.new.flows", "Test flows", "service_ip", "policy");
  private static final Stat ONLINE = Stat.gauge("semnet.test.online", "Test online");

  @Test
  void seriesFollowTheSourceAndRenderWithPrometheusNames() {
    AtomicLong drops = new AtomicLong(3);
    List<String> peers = new ArrayList<>(List.of("w2", "w3"));
    StatsSource source = v -> {
      v.value(DROPS, "no_route", drops.get());
      for (String p : peers) {
        v.value(RTT, p, 0.002);
      }
      v.value(FLOWS, "172.30.0.5", "rr", 7);
      v.value(ONLINE, 1);
    };
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (NodeMetrics metrics = NodeMetrics.of(source, Duration.ZERO)) {
      metrics.bindTo(registry);
      String text = registry.scrape();
      assertTrue(text.contains("semnet_test_drops_total{reason=\"no_route\"} 3.0"), text);
      assertTrue(text.contains("semnet_test_rtt_seconds{peer=\"w3\"} 0.002"), text);
      assertTrue(text.contains("semnet_test_new_flows_total{policy=\"rr\",service_ip=\"172.30.0.5\"} 7.0"), text);
      assertTrue(text.contains("semnet_test_online 1.0"), text);
      assertTrue(text.contains("# HELP semnet_test_drops_total Test drops"), text);

      drops.set(5);
      peers.remove("w3");
      metrics.refresh();
      text = registry.scrape();
      assertTrue(text.contains("semnet_test_drops_total{reason=\"no_route\"} 5.0"), text);
      assertFalse(text.contains("peer=\"w3\""), "a vanished peer's series is removed:\n" + text);
      assertTrue(text.contains("peer=\"w2\""), text);
    }
    assertFalse(registry.scrape().contains("semnet_test"), "close removes every meter");
  }

  @Test
  void seriesPerStatAreCappedAndLabelCountsChecked() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    SeriesBinding b = new SeriesBinding(v -> {
      for (int i = 0; i < SeriesBinding.MAX_SERIES_PER_STAT + 10; i++) {
        v.value(RTT, "peer" + i, i);
      }
    }, registry);
    b.refresh();
    b.refresh();
    assertEquals(SeriesBinding.MAX_SERIES_PER_STAT, registry.find("semnet.test.rtt.seconds").gauges().size());
    assertEquals(20, b.ignoredSeries());

    SeriesBinding wrong = new SeriesBinding(v -> v.value(DROPS, 1), registry);
    assertThrows(IllegalArgumentException.class, wrong::refresh);
    assertThrows(IllegalArgumentException.class, () -> Stat.counter("Semnet_Bad", "x"));
    assertThrows(IllegalArgumentException.class, () -> Stat.gauge("semnet.x", "x", "a", "b", "c"));
  }

  @Test
  void theRefreshThreadUpdatesOtherRegistries() throws Exception {
    AtomicLong value = new AtomicLong(1);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (NodeMetrics metrics = NodeMetrics.of(v -> v.value(ONLINE, value.get()), Duration.ofMillis(100))) {
      metrics.bindTo(registry);
      value.set(0);
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (registry.get("semnet.test.online").gauge().value() != 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertEquals(0, registry.get("semnet.test.online").gauge().value());
    }
  }
}
