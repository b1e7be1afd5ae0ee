package io.semnet.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semnet.core.service.ServiceId;
import io.semnet.resolver.protocol.OrchestrationResult;
import io.semnet.resolver.protocol.internal.Json;
import io.semnet.resolver.transport.ServerBinding;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The orchestrators subscribed to the root's {@link NodeEventLog} through the
 * {@link OrchestrationService}: a signed {@code events} call (re)subscribes its client for
 * {@link #TTL_MILLIS} and answers the kept events after the number it names; every new event is
 * then pushed to each live subscriber as an {@link OrchestrationResult} whose body holds
 * {@code {"events":[...]}}. At most {@link #MAX_SUBSCRIBERS} at once. Also the JSON form of a
 * {@link NodeEvent}, shared with {@link RemoteOrchestration}. Thread-safe.
 */
final class EventSubscriptions implements AutoCloseable {
  /** A subscription lapses unless renewed within this (clients renew every few seconds). */
  static final long TTL_MILLIS = 30_000;
  static final int MAX_SUBSCRIBERS = 64;

  private final NodeEventLog log;
  private final ServerBinding binding;
  private final Clock clock;
  private final Map<String, Long> subscribers = new ConcurrentHashMap<>();
  private final AutoCloseable listening;

  EventSubscriptions(NodeEventLog log, ServerBinding binding, Clock clock) {
    this.log = log;
    this.binding = binding;
    this.clock = clock;
    this.listening = log.subscribe(this::publish);
  }

  /** The {@code events} operation of {@code clientId}: subscribe (or renew) and catch up after {@code args.after}. */
  JsonNode subscribe(String clientId, JsonNode args) {
    long now = clock.millis();
    subscribers.values().removeIf(until -> until < now);
    if (!subscribers.containsKey(clientId) && subscribers.size() >= MAX_SUBSCRIBERS) {
      throw new OrchestrationException("busy: " + MAX_SUBSCRIBERS + " event subscribers already");
    }
    subscribers.put(clientId, now + TTL_MILLIS);
    NodeEventLog.Page p = log.after(Json.integer(args, "after"));
    ObjectNode r = events(p.events());
    r.put("gap", p.gap());
    r.put("last", p.last());
    return r;
  }

  private void publish(NodeEvent e) {
    long now = clock.millis();
    OrchestrationResult push = new OrchestrationResult(events(List.of(e)).toString());
    subscribers.forEach((client, until) -> {
      if (until < now) {
        subscribers.remove(client, until);
      } else {
        binding.push(client, push);
      }
    });
  }

  static ObjectNode events(List<NodeEvent> events) {
    ObjectNode o = Json.obj();
    ArrayNode a = o.putArray("events");
    for (NodeEvent e : events) {
      ObjectNode n = a.addObject();
      n.put("seq", e.sequence()).put("at", e.atMillis()).put("kind", e.kind().name()).put("node", e.nodeId());
      if (e.service() != null) {
        n.put("service", e.service().toString()).put("ordinal", e.ordinal());
      }
    }
    return o;
  }

  static NodeEvent event(JsonNode n) {
    return new NodeEvent(Json.integer(n, "seq"), Json.integer(n, "at"), NodeEvent.Kind.valueOf(Json.text(n, "kind")),
        Json.text(n, "node"), Json.has(n, "service") ? ServiceId.parse(Json.text(n, "service")) : null,
        Json.has(n, "ordinal") ? (int) Json.integer(n, "ordinal") : -1);
  }

  @Override
  public void close() {
    try {
      listening.close();
    } catch (Exception e) {
      // nothing to release
    }
  }
}
