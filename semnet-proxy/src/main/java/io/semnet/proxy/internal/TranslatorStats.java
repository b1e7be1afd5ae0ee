package io.semnet.proxy.internal;

import io.semnet.core.stats.Stat;
import io.semnet.core.stats.StatsVisitor;
import io.semnet.proxy.Counter;
import java.util.Locale;

/**
 * The translator's statistics in the one shape ({@link io.semnet.core.stats.StatsSource}): drops by
 * reason, other events by name, the flow table's size, parked packets, and per ServiceIP and policy
 * new flows, active flows and bytes (bounded by {@link ServiceTallies}: {@value
 * ServiceTallies#DEFAULT_CAP} addresses, the rest as {@code other}). Reading allocates nothing but
 * the tally list.
 */
public final class TranslatorStats {
  static final Stat DROPS = Stat.counter("semnet.translator.drops", "Packets the translator dropped, by reason", "reason");
  static final Stat EVENTS = Stat.counter("semnet.translator.events",
      "Work the translator did (packets translated, flows created, expired, evicted, ICMP sent ...), by event", "event");
  static final Stat FLOWS = Stat.gauge("semnet.translator.flows", "Flows in the translator's table");
  static final Stat PARKED = Stat.gauge("semnet.translator.parked.packets", "Packets parked while their route resolves");
  static final Stat NEW_FLOWS = Stat.counter("semnet.translator.new.flows",
      "Client flows created, by ServiceIP (first 64, then other) and policy", "service_ip", "policy");
  static final Stat ACTIVE_FLOWS = Stat.gauge("semnet.translator.active.flows",
      "Client flows in the table, by ServiceIP (first 64, then other) and policy", "service_ip", "policy");
  static final Stat BYTES = Stat.counter("semnet.translator.flow.bytes",
      "IP bytes of client flows translated (both directions), by ServiceIP (first 64, then other) and policy",
      "service_ip", "policy");

  private static final Counter[] COUNTERS = Counter.values();
  private static final String[] LABELS = new String[COUNTERS.length];

  static {
    for (Counter c : COUNTERS) {
      String n = c.name().toLowerCase(Locale.ROOT);
      LABELS[c.ordinal()] = c.isDrop() ? n.substring("drop_".length()) : n;
    }
  }

  private TranslatorStats() {}

  /** Reports what {@code parts} count to {@code v}. */
  public static void report(TranslatorParts parts, StatsVisitor v) {
    ThreadScratches s = parts.scratches();
    for (Counter c : COUNTERS) {
      v.value(c.isDrop() ? DROPS : EVENTS, LABELS[c.ordinal()], s.count(c));
    }
    v.value(FLOWS, parts.flows().count());
    v.value(PARKED, parts.parking().count());
    for (ServiceTallies.Tally t : parts.tallies().all()) {
      v.value(NEW_FLOWS, t.serviceIp, t.policy, t.created());
      v.value(ACTIVE_FLOWS, t.serviceIp, t.policy, t.active());
      v.value(BYTES, t.serviceIp, t.policy, parts.tallies().bytes(t));
    }
  }
}
