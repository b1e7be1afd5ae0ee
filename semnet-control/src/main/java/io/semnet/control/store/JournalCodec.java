package io.semnet.control.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semnet.core.address.IpPrefix;
import io.semnet.core.isolation.Grant;
import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RevokedCertificate;
import io.semnet.resolver.protocol.internal.Json;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The JSON form of one {@link RootEvent} in the root journal (the payload of a record, or a whole
 * line in a version-1 journal). Stateless and thread-safe.
 */
final class JournalCodec {
  static final int SCHEMA = 1;

  private JournalCodec() {}

  static ObjectNode encode(RootEvent e) {
    ObjectNode o = Json.obj();
    o.put("v", SCHEMA);
    if (e instanceof RootEvent.ServicePut) {
      o.put("type", "service");
      o.set("record", Json.record(((RootEvent.ServicePut) e).record()));
      o.set("rule", Json.rule(((RootEvent.ServicePut) e).rule()));
    } else if (e instanceof RootEvent.ServiceRemoved) {
      o.put("type", "service-removed");
      o.put("service", ((RootEvent.ServiceRemoved) e).service().toString());
      o.put("version", ((RootEvent.ServiceRemoved) e).version());
    } else if (e instanceof RootEvent.NodePut) {
      o.put("type", "node");
      o.set("node", Json.node(((RootEvent.NodePut) e).node()));
    } else if (e instanceof RootEvent.NodeRemoved) {
      o.put("type", "node-removed");
      o.put("node", ((RootEvent.NodeRemoved) e).nodeId());
    } else if (e instanceof RootEvent.PoolPut) {
      o.put("type", "pool");
      o.put("cluster", ((RootEvent.PoolPut) e).clusterId());
      o.put("pool", ((RootEvent.PoolPut) e).pool().toString());
    } else if (e instanceof RootEvent.RulesPut) {
      o.put("type", "rules");
      o.put("version", ((RootEvent.RulesPut) e).version());
      ArrayNode a = o.putArray("grants");
      ((RootEvent.RulesPut) e).grants().forEach(g -> a.add(Json.grant(g)));
    } else if (e instanceof RootEvent.RevocationsPut r) {
      o.put("type", "revocations");
      o.put("version", r.version());
      ArrayNode a = o.putArray("revoked");
      r.revoked().forEach(c -> a.add(Json.revoked(c)));
    } else if (e instanceof RootEvent.VersionFloor) {
      o.put("type", "version-floor");
      o.put("version", ((RootEvent.VersionFloor) e).version());
    } else if (e instanceof RootEvent.EventSequence) {
      o.put("type", "event-sequence");
      o.put("sequence", ((RootEvent.EventSequence) e).sequence());
    } else if (e instanceof RootEvent.Released) {
      o.put("type", "released");
      o.put("prefix", ((RootEvent.Released) e).prefix().toString());
      o.put("until", ((RootEvent.Released) e).until().toString());
    } else {
      throw new IllegalArgumentException("unknown event " + e);
    }
    return o;
  }

  static RootEvent decode(JsonNode n) {
    long v = Json.integer(n, "v");
    if (v != SCHEMA) {
      throw new IllegalArgumentException("journal schema " + v + " not supported (this code reads " + SCHEMA + ")");
    }
    String type = Json.text(n, "type");
    switch (type) {
      case "service":
        return new RootEvent.ServicePut(Json.record(Json.need(n, "record")), Json.rule(n.get("rule")));
      case "service-removed":
        return new RootEvent.ServiceRemoved(ServiceId.parse(Json.text(n, "service")), Json.integer(n, "version"));
      case "node":
        return new RootEvent.NodePut(Json.node(Json.need(n, "node")));
      case "node-removed":
        return new RootEvent.NodeRemoved(Json.text(n, "node"));
      case "pool":
        return new RootEvent.PoolPut(Json.text(n, "cluster"), IpPrefix.parse(Json.text(n, "pool")));
      case "rules": {
        List<Grant> grants = new ArrayList<>();
        for (JsonNode g : Json.array(n, "grants")) {
          grants.add(Json.grant(g));
        }
        return new RootEvent.RulesPut(Json.integer(n, "version"), grants);
      }
      case "revocations": {
        List<RevokedCertificate> l = new ArrayList<>();
        for (JsonNode c : Json.array(n, "revoked")) {
          l.add(Json.revoked(c));
        }
        return new RootEvent.RevocationsPut(Json.integer(n, "version"), l);
      }
      case "version-floor":
        return new RootEvent.VersionFloor(Json.integer(n, "version"));
      case "event-sequence":
        return new RootEvent.EventSequence(Json.integer(n, "sequence"));
      case "released":
        return new RootEvent.Released(IpPrefix.parse(Json.text(n, "prefix")), Instant.parse(Json.text(n, "until")));
      default:
        throw new IllegalArgumentException("unknown journal entry type '" + type + "'");
    }
  }
}
