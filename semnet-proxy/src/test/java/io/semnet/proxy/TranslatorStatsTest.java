package io.semnet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.Addresses;
import io.semnet.core.stats.Stat;
import io.semnet.core.stats.StatsVisitor;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The translator's statistics in the one shape: per-ServiceIP new and active flows and bytes, drops
 * by reason, and the flow snapshots the inspection endpoint shows.
 */
class TranslatorStatsTest {
  private static final int SYN = 0x02;
  private static final int ACK = 0x10;
  private Harness h;

  @BeforeEach
  void setUp() throws Exception {
    h = new Harness();
  }

  @AfterEach
  void tearDown() {
    h.close();
  }

  /** Every series reported, as {@code name{label,label}} to value. */
  static Map<String, Double> report(io.semnet.core.stats.StatsSource s) {
    Map<String, Double> m = new TreeMap<>();
    s.reportTo(new StatsVisitor() {
      @Override
      public void value(Stat stat, double value) {
        put(stat.name(), value);
      }

      @Override
      public void value(Stat stat, String label, double value) {
        put(stat.name() + "{" + label + "}", value);
      }

      @Override
      public void value(Stat stat, String l1, String l2, double value) {
        put(stat.name() + "{" + l1 + "," + l2 + "}", value);
      }

      private void put(String key, double value) {
        if (m.put(key, value) != null) {
          throw new AssertionError("reported twice: " + key);
        }
      }
    });
    return m;
  }

  @Test
  void aClientFlowIsCountedPerServiceIpWithItsBytesAndShownAsASnapshot() {
    byte[] syn = Pkt.v4("10.1.0.2", "172.30.0.10", 6, Pkt.tcp(40000, 80, SYN, 1460, 0));
    byte[] data = Pkt.v4("10.1.0.2", "172.30.0.10", 6, Pkt.tcp(40000, 80, ACK, 0, 300));
    byte[] synAck = Pkt.v4("172.30.2.1", "172.30.1.1", 6, Pkt.tcp(80, 40000, SYN | ACK, 1360, 0));
    h.fromTun(syn);
    h.fromPeer(Harness.N2, synAck);
    h.fromTun(data);
    h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.99", 6, Pkt.tcp(4000, 80, SYN, 0, 0))); // no route: dropped

    Map<String, Double> r = report(h.translator);
    assertEquals(1.0, r.get("semnet.translator.new.flows{172.30.0.10,first}"), r.toString());
    assertEquals(1.0, r.get("semnet.translator.active.flows{172.30.0.10,first}"));
    assertEquals(syn.length + data.length + synAck.length, r.get("semnet.translator.flow.bytes{172.30.0.10,first}"));
    assertEquals(0.0, r.get("semnet.translator.new.flows{other,other}"));
    assertEquals(1.0, r.get("semnet.translator.drops{no_route}"));
    assertEquals(1.0, r.get("semnet.translator.events{flows_created}"));
    assertEquals(1.0, r.get("semnet.translator.flows"));
    assertEquals(Counter.values().length + 2 + 3 * 2, r.size(), "every counter once, two gauges, three stats per tally");

    List<FlowInfo> flows = h.translator.flows(10);
    assertEquals(1, flows.size());
    FlowInfo f = flows.get(0);
    assertEquals(6, f.protocol());
    assertTrue(f.client());
    assertEquals("10.1.0.2:40000", Addresses.format(f.source()) + ":" + f.sourcePort());
    assertEquals("172.30.0.10:80", Addresses.format(f.destination()) + ":" + f.destinationPort());
    assertEquals("172.30.1.1", Addresses.format(f.translatedSource()));
    assertEquals("10.2.0.2", Addresses.format(f.translatedDestination()));
    assertEquals(h.server0.key(), f.instance());
    assertEquals("n2", f.peer());
    assertEquals(syn.length + data.length, f.bytesOut());
    assertEquals(synAck.length, f.bytesIn());
    assertTrue(f.ageMillis() >= 0 && f.idleMillis() >= 0);
    assertEquals(0, h.translator.flows(0).size());

    h.translator.clearFlows();
    assertEquals(0.0, report(h.translator).get("semnet.translator.active.flows{172.30.0.10,first}"), "active flows drop with the flow");
    assertNull(report(h.translator).get("semnet.translator.new.flows{172.30.0.99,first}"), "a ServiceIP without flows has no series");
  }
}
