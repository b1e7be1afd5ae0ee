package io.semnet.resolver.transport.mqtt;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semnet.core.address.Addresses;
import io.semnet.core.isolation.Grant;
import io.semnet.core.isolation.IsolationRules;
import io.semnet.core.service.SemanticName;
import io.semnet.core.service.ServiceId;
import io.semnet.resolver.internal.Json;
import io.semnet.resolver.protocol.Ack;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.Drop;
import io.semnet.resolver.protocol.ErrorReply;
import io.semnet.resolver.protocol.Hello;
import io.semnet.resolver.protocol.HelloReply;
import io.semnet.resolver.protocol.Query;
import io.semnet.resolver.protocol.QueryKey;
import io.semnet.resolver.protocol.QueryReply;
import io.semnet.resolver.protocol.RecordPush;
import io.semnet.resolver.protocol.RemovalPush;
import io.semnet.resolver.protocol.Renew;
import io.semnet.resolver.protocol.RenewReply;
import io.semnet.resolver.protocol.Role;
import io.semnet.resolver.protocol.RulesPush;
import io.semnet.resolver.protocol.ServiceVersion;
import io.semnet.resolver.protocol.SignedRecord;
import io.semnet.resolver.protocol.SignedRemoval;
import io.semnet.resolver.protocol.SignedRules;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The JSON envelope of the MQTT transport (see semnet-resolver/MQTT.md for the schema). Encodes
 * control messages, manager state and node liveness; decodes strictly: anything that is not exactly
 * a valid envelope of an accepted schema version throws {@link Rejected} with a short reason and
 * never yields a partly-built message.
 *
 * <p>Versions: the codec writes {@code current} (or the version asked for, to answer a peer in its
 * own version) and reads every version in {@code [minAccepted, current]}. Per version, the body of
 * each message type is read by {@link #body}: a later schema version that changes a body adds a
 * branch there and keeps the old one for one version, which is what lets a rolling upgrade run.
 */
final class WireCodec {
  static final String REQUEST = "request";
  static final String REPLY = "reply";
  static final String PUSH = "push";
  static final String STATE = "state";
  static final String ALIVE = "alive";

  private final int current;
  private final int minAccepted;
  private final int maxBytes;

  WireCodec(int current, int minAccepted, int maxBytes) {
    if (minAccepted < 1 || minAccepted > current) {
      throw new IllegalArgumentException("accepted versions must be 1 <= min <= current");
    }
    this.current = current;
    this.minAccepted = minAccepted;
    this.maxBytes = maxBytes;
  }

  int current() {
    return current;
  }

  boolean accepts(int version) {
    return version >= minAccepted && version <= current;
  }

  /** A decoded envelope: exactly one of message (request, reply, push) or up/host (state, alive) is meaningful. */
  record Inbound(int version, String kind, long id, ControlMessage message, boolean up, String host) {}

  /** A message that must be dropped; {@code id} is the request id if one could be read (else -1). */
  static final class Rejected extends Exception {
    private static final long serialVersionUID = 1L;
    final String reason;
    final int version;
    final long id;

    Rejected(String reason, String detail, int version, long id) {
      super(detail, null, false, false);
      this.reason = reason;
      this.version = version;
      this.id = id;
    }
  }

  // ---------------------------------------------------------------- encode

  byte[] message(int version, String kind, long id, ControlMessage m) {
    ObjectNode o = Json.obj();
    o.put("v", version);
    o.put("kind", kind);
    if (!PUSH.equals(kind)) {
      o.put("id", id);
    }
    o.put("type", m.type());
    o.set("body", body(m));
    return bytes(o);
  }

  /*
   * Presence (state, alive) is retained and read by every generation in the window, so it is
   * written in the oldest accepted version.
   */
  byte[] state(boolean up, String host) {
    ObjectNode o = Json.obj();
    o.put("v", minAccepted);
    o.put("kind", STATE);
    o.put("up", up);
    if (host != null) {
      o.put("host", host);
    }
    return bytes(o);
  }

  byte[] alive(boolean up) {
    ObjectNode o = Json.obj();
    o.put("v", minAccepted);
    o.put("kind", ALIVE);
    o.put("up", up);
    return bytes(o);
  }

  private static byte[] bytes(ObjectNode o) {
    try {
      return Json.MAPPER.writeValueAsBytes(o);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot encode JSON", e);
    }
  }

  private static ObjectNode body(ControlMessage m) {
    ObjectNode b = Json.obj();
    if (m instanceof Hello h) {
      b.put("node", h.nodeId());
      b.put("role", h.role().name());
      if (h.location() != null) {
        b.set("location", Json.geo(h.location()));
      }
    } else if (m instanceof HelloReply r) {
      b.set("rules", rules(r.rules()));
    } else if (m instanceof Query q) {
      b.set("key", key(q.key()));
      b.put("register", q.register());
    } else if (m instanceof QueryReply r) {
      b.put("status", r.status().name());
      if (r.record() != null) {
        b.set("record", record(r.record()));
      }
      if (r.reason() != null) {
        b.put("reason", r.reason());
      }
    } else if (m instanceof Renew r) {
      ArrayNode a = b.putArray("services");
      for (ServiceVersion sv : r.services()) {
        a.addObject().put("service", sv.service().toString()).put("version", sv.version());
      }
    } else if (m instanceof RenewReply r) {
      ArrayNode n = b.putArray("newer");
      for (SignedRecord s : r.newer()) {
        n.add(record(s));
      }
      ArrayNode g = b.putArray("gone");
      for (SignedRemoval s : r.gone()) {
        g.add(removal(s));
      }
    } else if (m instanceof Drop d) {
      ArrayNode a = b.putArray("services");
      for (ServiceId s : d.services()) {
        a.add(s.toString());
      }
    } else if (m instanceof Ack) {
      // empty body
    } else if (m instanceof ErrorReply e) {
      b.put("reason", e.reason());
    } else if (m instanceof RecordPush p) {
      b.set("record", record(p.record()));
    } else if (m instanceof RemovalPush p) {
      b.set("removal", removal(p.removal()));
    } else if (m instanceof RulesPush p) {
      b.set("rules", rules(p.rules()));
    } else {
      throw new IllegalArgumentException("no wire form for " + m.type());
    }
    return b;
  }

  private static ObjectNode key(QueryKey k) {
    ObjectNode o = Json.obj();
    if (k.address() != null) {
      o.put("ip", Addresses.format(k.address()));
    } else if (k.name() != null) {
      o.put("name", k.name().toString());
    } else {
      o.put("service", k.service().toString());
    }
    return o;
  }

  private static ObjectNode record(SignedRecord s) {
    ObjectNode o = Json.obj();
    o.set("record", Json.record(s.record()));
    ArrayNode d = o.putArray("digests");
    for (byte[] x : s.digests()) {
      d.add(Json.b64(x));
    }
    byte[] sig = s.signature();
    if (sig != null) {
      o.put("sig", Json.b64(sig));
    }
    return o;
  }

  private static ObjectNode removal(SignedRemoval s) {
    ObjectNode o = Json.obj();
    o.put("service", s.service().toString());
    o.put("version", s.version());
    byte[] sig = s.signature();
    if (sig != null) {
      o.put("sig", Json.b64(sig));
    }
    return o;
  }

  private static ObjectNode rules(SignedRules s) {
    ObjectNode o = Json.obj();
    o.put("version", s.version());
    ArrayNode g = o.putArray("grants");
    for (Grant x : s.rules().grants()) {
      g.add(Json.grant(x));
    }
    byte[] sig = s.signature();
    if (sig != null) {
      o.put("sig", Json.b64(sig));
    }
    return o;
  }

  // ---------------------------------------------------------------- decode

  Inbound decode(byte[] payload) throws Rejected {
    if (payload == null || payload.length == 0) {
      throw new Rejected("empty payload", "", -1, -1);
    }
    if (payload.length > maxBytes) {
      throw new Rejected("oversized payload", payload.length + " bytes > " + maxBytes, -1, -1);
    }
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(payload);
    } catch (IOException | RuntimeException e) {
      throw new Rejected("not JSON", e.getMessage(), -1, -1);
    }
    if (root == null || !root.isObject()) {
      throw new Rejected("not a JSON object", "", -1, -1);
    }
    JsonNode vn = root.get("v");
    if (vn == null || !vn.isIntegralNumber() || !vn.canConvertToInt()) {
      throw new Rejected("missing or invalid schema version", "field 'v'", -1, -1);
    }
    int version = vn.asInt();
    JsonNode idn = root.get("id");
    long id = idn != null && idn.isIntegralNumber() && idn.canConvertToLong() ? idn.asLong() : -1;
    if (!accepts(version)) {
      throw new Rejected("unsupported schema version", "v=" + version + ", accepted " + minAccepted + ".." + current, version, id);
    }
    try {
      String kind = Json.text(root, "kind");
      switch (kind) {
        case STATE:
          return new Inbound(version, kind, -1, null, Json.bool(root, "up"), Json.has(root, "host") ? Json.text(root, "host") : null);
        case ALIVE:
          return new Inbound(version, kind, -1, null, Json.bool(root, "up"), null);
        case REQUEST:
        case REPLY:
        case PUSH: {
          if (!PUSH.equals(kind) && id < 0) {
            throw new IllegalArgumentException("a " + kind + " needs a non-negative integer 'id'");
          }
          String type = Json.text(root, "type");
          JsonNode body = Json.need(root, "body");
          if (!body.isObject()) {
            throw new IllegalArgumentException("field 'body' must be an object");
          }
          ControlMessage m = body(version, type, body);
          if (!kindOf(m).equals(kind)) {
            throw new IllegalArgumentException("type '" + type + "' is not a " + kind);
          }
          return new Inbound(version, kind, PUSH.equals(kind) ? -1 : id, m, false, null);
        }
        default:
          throw new IllegalArgumentException("unknown kind '" + kind + "'");
      }
    } catch (RuntimeException e) {
      // Every validation failure of the core value types is a RuntimeException (mostly
      // IllegalArgumentException naming the field); none of them may escape as anything but a drop.
      throw new Rejected("invalid message", e.getClass().getSimpleName() + ": " + e.getMessage(), version, id);
    }
  }

  /** Which envelope kind a message type travels as. */
  static String kindOf(ControlMessage m) {
    if (m instanceof Hello || m instanceof Query || m instanceof Renew || m instanceof Drop) {
      return REQUEST;
    }
    if (m instanceof RecordPush || m instanceof RemovalPush || m instanceof RulesPush) {
      return PUSH;
    }
    return REPLY;
  }

  /**
   * Reads the body of one message type as written by schema {@code version}. All accepted versions
   * share one form today (version 1 is the first); a later version that changes a body branches
   * here on {@code version}.
   */
  private static ControlMessage body(int version, String type, JsonNode b) {
    switch (type) {
      case "hello":
        return new Hello(Json.text(b, "node"), Role.valueOf(Json.text(b, "role")), Json.geo(b.get("location")));
      case "hello-reply":
        return new HelloReply(rules(Json.need(b, "rules")));
      case "query":
        return new Query(key(Json.need(b, "key")), Json.bool(b, "register"));
      case "query-reply": {
        QueryReply.Status st = QueryReply.Status.valueOf(Json.text(b, "status"));
        SignedRecord r = Json.has(b, "record") ? record(b.get("record")) : null;
        return new QueryReply(st, r, Json.has(b, "reason") ? Json.text(b, "reason") : null);
      }
      case "renew": {
        List<ServiceVersion> list = new ArrayList<>();
        for (JsonNode s : Json.array(b, "services")) {
          list.add(new ServiceVersion(ServiceId.parse(Json.text(s, "service")), Json.integer(s, "version")));
        }
        return new Renew(list);
      }
      case "renew-reply": {
        List<SignedRecord> newer = new ArrayList<>();
        for (JsonNode s : Json.array(b, "newer")) {
          newer.add(record(s));
        }
        List<SignedRemoval> gone = new ArrayList<>();
        for (JsonNode s : Json.array(b, "gone")) {
          gone.add(removal(s));
        }
        return new RenewReply(newer, gone);
      }
      case "drop": {
        List<ServiceId> list = new ArrayList<>();
        for (JsonNode s : Json.array(b, "services")) {
          if (!s.isTextual()) {
            throw new IllegalArgumentException("drop.services holds strings");
          }
          list.add(ServiceId.parse(s.asText()));
        }
        return new Drop(list);
      }
      case "ack":
        return new Ack();
      case "error":
        return new ErrorReply(Json.text(b, "reason"));
      case "record":
        return new RecordPush(record(Json.need(b, "record")));
      case "removal":
        return new RemovalPush(removal(Json.need(b, "removal")));
      case "rules":
        return new RulesPush(rules(Json.need(b, "rules")));
      default:
        throw new IllegalArgumentException("unknown message type '" + type + "'");
    }
  }

  private static QueryKey key(JsonNode k) {
    boolean ip = Json.has(k, "ip");
    boolean name = Json.has(k, "name");
    boolean service = Json.has(k, "service");
    if ((ip ? 1 : 0) + (name ? 1 : 0) + (service ? 1 : 0) != 1) {
      throw new IllegalArgumentException("a query key has exactly one of 'ip', 'name' and 'service'");
    }
    if (ip) {
      return QueryKey.of(Json.address(k, "ip"));
    }
    return name ? QueryKey.of(SemanticName.parse(Json.text(k, "name"))) : QueryKey.of(ServiceId.parse(Json.text(k, "service")));
  }

  private static SignedRecord record(JsonNode n) {
    List<byte[]> digests = new ArrayList<>();
    for (JsonNode d : Json.array(n, "digests")) {
      if (!d.isTextual()) {
        throw new IllegalArgumentException("digests hold base64 strings");
      }
      digests.add(java.util.Base64.getDecoder().decode(d.asText()));
    }
    return SignedRecord.of(Json.record(Json.need(n, "record")), digests, Json.has(n, "sig") ? Json.bytes(n, "sig") : null);
  }

  private static SignedRemoval removal(JsonNode n) {
    return SignedRemoval.of(ServiceId.parse(Json.text(n, "service")), Json.integer(n, "version"),
        Json.has(n, "sig") ? Json.bytes(n, "sig") : null);
  }

  private static SignedRules rules(JsonNode n) {
    List<Grant> grants = new ArrayList<>();
    for (JsonNode g : Json.array(n, "grants")) {
      grants.add(Json.grant(g));
    }
    return SignedRules.of(Json.integer(n, "version"), IsolationRules.of(grants), Json.has(n, "sig") ? Json.bytes(n, "sig") : null);
  }
}
