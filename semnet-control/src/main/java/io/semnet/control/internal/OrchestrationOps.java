package io.semnet.control.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semnet.core.address.Addresses;
import io.semnet.core.isolation.Grant;
import io.semnet.core.isolation.IsolationRules;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.resolver.NodeRegistration;
import io.semnet.resolver.enrol.JoinToken;
import io.semnet.resolver.protocol.WireCodec;
import io.semnet.resolver.protocol.internal.Json;
import java.net.InetAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * JSON forms of the orchestration API's arguments and results (the ones not already in
 * {@link WireCodec}): descriptors, isolation rules, join tokens, node lists. Malformed input throws
 * IllegalArgumentException naming the field.
 */
public final class OrchestrationOps {
  private OrchestrationOps() {}

  public static ObjectNode descriptor(ServiceId service, int instances, Map<String, List<InetAddress>> pinned, ObjectNode rule) {
    ObjectNode o = Json.obj();
    o.put("service", service.toString());
    o.put("instances", instances);
    ObjectNode p = o.putObject("pinned");
    pinned.forEach((policy, ips) -> {
      ArrayNode a = p.putArray(policy);
      ips.forEach(ip -> a.add(Addresses.format(ip)));
    });
    o.set("rule", rule);
    return o;
  }

  public static ObjectNode rules(IsolationRules r) {
    ObjectNode o = Json.obj();
    ArrayNode a = o.putArray("grants");
    r.grants().forEach(g -> a.add(Json.grant(g)));
    return o;
  }

  public static IsolationRules rules(JsonNode n) {
    List<Grant> grants = new ArrayList<>();
    for (JsonNode g : Json.array(n, "grants")) {
      grants.add(Json.grant(g));
    }
    return IsolationRules.of(grants);
  }

  public static ObjectNode token(JoinToken t) {
    ObjectNode o = Json.obj();
    o.put("token", t.token());
    o.put("cluster", t.clusterId());
    o.put("expires", t.expiresAt().toEpochMilli());
    o.put("oneTime", t.oneTime());
    o.put("rootKeyHash", t.rootKeyHash());
    return o;
  }

  public static JoinToken token(JsonNode n) {
    String[] parts = JoinToken.parse(Json.text(n, "token"));
    return new JoinToken(parts[0], HexFormat.of().parseHex(parts[1]), Json.text(n, "cluster"),
        Instant.ofEpochMilli(Json.integer(n, "expires")), Json.bool(n, "oneTime"), Json.text(n, "rootKeyHash"));
  }

  public static ObjectNode nodes(List<NodeRegistration> nodes) {
    ObjectNode o = Json.obj();
    ArrayNode a = o.putArray("nodes");
    nodes.forEach(r -> a.add(WireCodec.toJson(r)));
    return o;
  }

  public static List<NodeRegistration> nodes(JsonNode n) {
    List<NodeRegistration> l = new ArrayList<>();
    for (JsonNode r : Json.array(n, "nodes")) {
      l.add(WireCodec.nodeRegistration(r));
    }
    return List.copyOf(l);
  }

  public static ObjectNode record(ServiceRecord r) {
    ObjectNode o = Json.obj();
    if (r != null) {
      o.set("record", WireCodec.toJson(r));
    }
    return o;
  }

  public static ServiceRecord record(JsonNode n) {
    return Json.has(n, "record") ? WireCodec.serviceRecord(n.get("record")) : null;
  }

  public static ObjectNode descriptor(io.semnet.control.ServiceDescriptor d) {
    return descriptor(d.service(), d.instances(), d.pinnedServiceIps(), Json.rule(d.instanceRule()));
  }

  public static io.semnet.control.ServiceDescriptor descriptor(JsonNode n) {
    long instances = Json.integer(n, "instances");
    if (instances < 0 || instances > 1_000_000) {
      throw new IllegalArgumentException("instances out of range");
    }
    io.semnet.control.ServiceDescriptor.Builder b = io.semnet.control.ServiceDescriptor.builder(ServiceId.parse(Json.text(n, "service")))
        .instances((int) instances).instanceRule(Json.rule(Json.need(n, "rule")));
    JsonNode pinned = n.get("pinned");
    if (pinned != null && pinned.isObject()) {
      pinned.fields().forEachRemaining(e -> {
        for (JsonNode ip : e.getValue()) {
          b.pin(e.getKey(), Addresses.parseLiteral(ip.asText()));
        }
      });
    }
    return b.build();
  }
}
