package io.semnet.mqtt;

import io.semnet.core.stats.Stat;
import io.semnet.core.stats.StatsVisitor;

/** {@link MqttTransport}'s counts as {@code semnet.control.*} stats (labels are fixed words). */
final class TransportStats {
  private static final Stat MESSAGES = Stat.counter("semnet.control.messages",
      "Control-plane messages received from the broker and sent (acknowledged by it)", "direction");
  private static final Stat DROPS = Stat.counter("semnet.control.drops",
      "Control-plane messages dropped: inbound_rejected (malformed, unaccepted version, unexpected), "
          + "outbound_dropped (broker unreachable, queue full, refused), overloaded (request queue full)", "reason");
  private static final Stat RECONNECTS = Stat.counter("semnet.control.reconnects", "Broker connections re-established after a loss");
  private static final Stat CONNECTED = Stat.gauge("semnet.control.connected", "1 while connected to the broker, else 0");

  private TransportStats() {}

  static void report(MqttTransport t, StatsVisitor v) {
    v.value(MESSAGES, "received", t.received.get());
    v.value(MESSAGES, "sent", t.sentMessages());
    v.value(DROPS, "inbound_rejected", t.rejectedMessages());
    v.value(DROPS, "outbound_dropped", t.droppedOutbound());
    v.value(DROPS, "overloaded", t.overloadedRequests());
    v.value(RECONNECTS, t.reconnects());
    v.value(CONNECTED, t.isConnected() ? 1 : 0);
  }
}
