package io.semnet.samples.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SoakSeriesTest {
  private static SoakSeries flatSeries(int samples) {
    SoakSeries s = new SoakSeries(List.of("w1"), 600, 0, 10_000);
    for (int i = 0; i < samples; i++) {
      Map<SoakSeries.Metric, Long> v = new EnumMap<>(SoakSeries.Metric.class);
      for (SoakSeries.Metric m : SoakSeries.Metric.values()) {
        v.put(m, 100L << 20);
      }
      v.put(SoakSeries.Metric.FDS, 200L);
      v.put(SoakSeries.Metric.FLOWS, 1_000L);
      s.add(i * 15.0, Map.of("w1", v));
    }
    s.load.put("tcp_ok", 100);
    s.load.put("udp_ok", 100);
    return s;
  }

  @Test
  void aFewMissedSamplesAreRecordedAndTolerated() {
    SoakSeries s = flatSeries(40);
    s.missed(600, "java.net.SocketTimeoutException: Read timed out");
    s.missed(615, "java.net.SocketTimeoutException: Read timed out");
    assertTrue(s.judge(), s.checks.toString());
    assertEquals(2, s.missed);
    assertTrue(s.events.stream().anyMatch(e -> e.what().startsWith("sample missed: ")));
  }

  @Test
  void moreThanATenthMissedFailsTheVerdict() {
    SoakSeries s = flatSeries(20);
    for (int i = 0; i < 3; i++) {
      s.missed(300 + i * 15, "timeout");
    }
    assertFalse(s.judge());
    assertTrue(s.checks.stream().anyMatch(c -> c.series().equals("samples missed") && !c.pass()), s.checks.toString());
  }

  @Test
  void growingHeapFailsTheVerdict() {
    SoakSeries s = new SoakSeries(List.of("w1"), 600, 0, 10_000);
    for (int i = 0; i < 30; i++) {
      Map<SoakSeries.Metric, Long> v = new EnumMap<>(SoakSeries.Metric.class);
      for (SoakSeries.Metric m : SoakSeries.Metric.values()) {
        v.put(m, 10L);
      }
      v.put(SoakSeries.Metric.HEAP_AFTER_GC, (100L + 5 * i) << 20);
      s.add(i * 15.0, Map.of("w1", v));
    }
    s.load.put("tcp_ok", 1);
    s.load.put("udp_ok", 1);
    assertFalse(s.judge());
    assertTrue(s.checks.stream().anyMatch(c -> c.series().equals("w1 heapAfterGcBytes") && !c.pass()), s.checks.toString());
  }
}
