package io.semnet.resolver.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semnet.core.address.Addresses;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.resolver.NodeRegistration;
import io.semnet.core.isolation.Grant;
import io.semnet.core.isolation.IsolationRules;
import io.semnet.core.trust.RevokedCertificate;
import io.semnet.core.service.SemanticName;
import io.semnet.core.service.ServiceId;
import io.semnet.resolver.protocol.internal.Json;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The JSON wire form of {@link ControlMessage}s (schema in the module README). Every message is an
 * object with {@code "v"} (schema version) and {@code "type"}; decoding accepts versions
 * {@link ControlMessage#MIN_ACCEPTED_SCHEMA_VERSION} to {@link ControlMessage#SCHEMA_VERSION},
 * ignores unknown fields (so a newer peer may add some), and rejects anything else with a
 * {@link MalformedMessageException} naming the problem. Thread-safe.
 */
public final class WireCodec {
  /** Largest message accepted (bytes). */
  public static final int MAX_MESSAGE_BYTES = 4 << 20;

  private WireCodec() {}

  public static byte[] encode(ControlMessage m) {
    try {
      return Json.MAPPER.writeValueAsBytes(toJson(m));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  public static ControlMessage decode(byte[] bytes) {
    if (bytes == null || bytes.length == 0) {
      throw new MalformedMessageException("empty message");
    }
    if (bytes.length > MAX_MESSAGE_BYTES) {
      throw new MalformedMessageException("message of " + bytes.length + " bytes exceeds " + MAX_MESSAGE_BYTES);
    }
    JsonNode n;
    try {
      n = Json.MAPPER.readTree(bytes);
    } catch (IOException e) {
      throw new MalformedMessageException("not JSON: " + e.getMessage(), e);
    }
    return fromJson(n);
  }

  /** The message as a JSON object (transports may add envelope fields beside these). */
  public static ObjectNode toJson(ControlMessage m) {
    ObjectNode o = Json.obj();
    o.put("v", ControlMessage.SCHEMA_VERSION);
    o.put("type", m.type());
    if (m instanceof Hello) {
      Hello h = (Hello) m;
      o.put("node", h.nodeId());
      o.put("role", h.role().name().toLowerCase(Locale.ROOT));
      if (h.location() != null) {
        o.set("location", Json.geo(h.location()));
      }
    } else if (m instanceof HelloReply) {
      o.set("rules", rules(((HelloReply) m).rules()));
      if (((HelloReply) m).heartbeat() != null) {
        o.set("heartbeat", heartbeat(((HelloReply) m).heartbeat()));
      }
    } else if (m instanceof Query) {
      Query q = (Query) m;
      ObjectNode k = o.putObject("key");
      if (q.key().address() != null) {
        k.put("address", Addresses.format(q.key().address()));
      } else if (q.key().name() != null) {
        k.put("name", q.key().name().toString());
      } else {
        k.put("service", q.key().service().toString());
      }
      o.put("register", q.register());
    } else if (m instanceof QueryReply) {
      QueryReply r = (QueryReply) m;
      o.put("status", r.status().name().toLowerCase(Locale.ROOT).replace('_', '-'));
      if (r.record() != null) {
        o.set("record", record(r.record()));
      }
      if (r.reason() != null) {
        o.put("reason", r.reason());
      }
    } else if (m instanceof Renew) {
      ArrayNode a = o.putArray("services");
      for (ServiceVersion sv : ((Renew) m).services()) {
        a.addObject().put("service", sv.service().toString()).put("version", sv.version());
      }
    } else if (m instanceof RenewReply) {
      ArrayNode a = o.putArray("newer");
      ((RenewReply) m).newer().forEach(r -> a.add(record(r)));
      ArrayNode g = o.putArray("gone");
      ((RenewReply) m).gone().forEach(r -> g.add(removal(r)));
    } else if (m instanceof Drop) {
      ArrayNode a = o.putArray("services");
      ((Drop) m).services().forEach(s -> a.add(s.toString()));
    } else if (m instanceof Ack) {
      // no fields
    } else if (m instanceof ErrorReply) {
      ErrorReply er = (ErrorReply) m;
      if (!ErrorReply.ERROR.equals(er.code())) {
        o.put("code", er.code());
      }
      o.put("reason", er.reason());
    } else if (m instanceof RecordPush) {
      o.set("record", record(((RecordPush) m).record()));
    } else if (m instanceof RemovalPush) {
      o.set("removal", removal(((RemovalPush) m).removal()));
    } else if (m instanceof RulesPush) {
      o.set("rules", rules(((RulesPush) m).rules()));
    } else if (m instanceof RevocationsPush) {
      o.set("revocations", revocations(((RevocationsPush) m).revocations()));
    } else if (m instanceof HeartbeatPush) {
      o.set("heartbeat", heartbeat(((HeartbeatPush) m).heartbeat()));
    } else if (m instanceof AvailabilityPush) {
      AvailabilityPush a = (AvailabilityPush) m;
      o.put("node", a.nodeId()).put("available", a.available()).put("at", a.atMillis());
    } else if (m instanceof EnrolRequest) {
      EnrolRequest e = (EnrolRequest) m;
      o.put("token", e.tokenId());
      o.set("endpoint", Json.endpoint(e.endpoint()));
      if (e.location() != null) {
        o.set("location", Json.geo(e.location()));
      }
      if (e.mqttPublicKey() != null) {
        o.put("mqttKey", Json.b64(e.mqttPublicKey()));
      }
      o.put("rootKeyHash", e.rootKeyHash());
      o.put("proof", Json.b64(e.proof()));
    } else if (m instanceof RenewRegistration) {
      RenewRegistration r = (RenewRegistration) m;
      o.put("node", r.nodeId());
      if (r.mqttPublicKey() != null) {
        o.put("mqttKey", Json.b64(r.mqttPublicKey()));
      }
    } else if (m instanceof EnrolReply) {
      EnrolReply r = (EnrolReply) m;
      o.set("registration", toJson(r.registration()));
      if (r.mqttCertificate() != null) {
        o.put("mqttCertificate", Json.b64(r.mqttCertificate()));
      }
    } else if (m instanceof OrchestrationCall) {
      OrchestrationCall c = (OrchestrationCall) m;
      o.put("body", c.body());
      o.put("key", Json.b64(c.key()));
      o.put("sig", Json.b64(c.signature()));
    } else if (m instanceof OrchestrationResult) {
      o.put("body", ((OrchestrationResult) m).body());
    }
    return o;
  }

  /** Decodes a message object; throws {@link MalformedMessageException} with the reason. */
  public static ControlMessage fromJson(JsonNode n) {
    try {
      if (n == null || !n.isObject()) {
        throw new MalformedMessageException("message is not a JSON object");
      }
      long v = Json.integer(n, "v");
      if (v < ControlMessage.MIN_ACCEPTED_SCHEMA_VERSION || v > ControlMessage.SCHEMA_VERSION) {
        throw new MalformedMessageException("schema version " + v + " not accepted (this node reads "
            + ControlMessage.MIN_ACCEPTED_SCHEMA_VERSION + ".." + ControlMessage.SCHEMA_VERSION + ")");
      }
      String type = Json.text(n, "type");
      switch (type) {
        case "hello":
          return new Hello(Json.text(n, "node"), role(Json.text(n, "role")), Json.geo(n.get("location")));
        case "hello-reply":
          return new HelloReply(rules(Json.need(n, "rules")), Json.has(n, "heartbeat") ? heartbeat(n.get("heartbeat")) : null);
        case "query": {
          JsonNode k = Json.need(n, "key");
          QueryKey key;
          if (Json.has(k, "address")) {
            key = QueryKey.of(Json.address(k, "address"));
          } else if (Json.has(k, "name")) {
            key = QueryKey.of(SemanticName.parse(Json.text(k, "name")));
          } else {
            key = QueryKey.of(ServiceId.parse(Json.text(k, "service")));
          }
          return new Query(key, Json.bool(n, "register"));
        }
        case "query-reply": {
          String st = Json.text(n, "status");
          QueryReply.Status status;
          switch (st) {
            case "found":
              status = QueryReply.Status.FOUND;
              break;
            case "not-found":
              status = QueryReply.Status.NOT_FOUND;
              break;
            case "unavailable":
              status = QueryReply.Status.UNAVAILABLE;
              break;
            default:
              throw new MalformedMessageException("unknown query status '" + st + "'");
          }
          SignedRecord rec = Json.has(n, "record") ? record(n.get("record")) : null;
          return new QueryReply(status, rec, Json.has(n, "reason") ? Json.text(n, "reason") : null);
        }
        case "renew": {
          List<ServiceVersion> l = new ArrayList<>();
          for (JsonNode s : Json.array(n, "services")) {
            l.add(new ServiceVersion(ServiceId.parse(Json.text(s, "service")), Json.integer(s, "version")));
          }
          return new Renew(l);
        }
        case "renew-reply": {
          List<SignedRecord> newer = new ArrayList<>();
          for (JsonNode r : Json.array(n, "newer")) {
            newer.add(record(r));
          }
          List<SignedRemoval> gone = new ArrayList<>();
          for (JsonNode r : Json.array(n, "gone")) {
            gone.add(removal(r));
          }
          return new RenewReply(newer, gone);
        }
        case "drop": {
          List<ServiceId> l = new ArrayList<>();
          for (JsonNode s : Json.array(n, "services")) {
            if (!s.isTextual()) {
              throw new MalformedMessageException("drop lists service ids as strings");
            }
            l.add(ServiceId.parse(s.asText()));
          }
          return new Drop(l);
        }
        case "ack":
          return new Ack();
        case "error":
          return new ErrorReply(n.hasNonNull("code") ? Json.text(n, "code") : ErrorReply.ERROR, Json.text(n, "reason"));
        case "record":
          return new RecordPush(record(Json.need(n, "record")));
        case "removal":
          return new RemovalPush(removal(Json.need(n, "removal")));
        case "rules":
          return new RulesPush(rules(Json.need(n, "rules")));
        case "revocations":
          return new RevocationsPush(revocations(Json.need(n, "revocations")));
        case "heartbeat":
          return new HeartbeatPush(heartbeat(Json.need(n, "heartbeat")));
        case "availability":
          return new AvailabilityPush(Json.text(n, "node"), Json.bool(n, "available"), Json.integer(n, "at"));
        case "enrol":
          return new EnrolRequest(Json.text(n, "token"), Json.endpoint(Json.need(n, "endpoint")), Json.geo(n.get("location")),
              Json.has(n, "mqttKey") ? Json.bytes(n, "mqttKey") : null, Json.text(n, "rootKeyHash"), Json.bytes(n, "proof"));
        case "renew-registration":
          return new RenewRegistration(Json.text(n, "node"), Json.has(n, "mqttKey") ? Json.bytes(n, "mqttKey") : null);
        case "enrol-reply":
          return new EnrolReply(signedRegistration(Json.need(n, "registration")),
              Json.has(n, "mqttCertificate") ? Json.bytes(n, "mqttCertificate") : null);
        case "orchestrate":
          return new OrchestrationCall(Json.text(n, "body"), Json.bytes(n, "key"), Json.bytes(n, "sig"));
        case "orchestrate-reply":
          return new OrchestrationResult(Json.text(n, "body"));
        default:
          throw new MalformedMessageException("unknown message type '" + type + "'");
      }
    } catch (MalformedMessageException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new MalformedMessageException("malformed message: " + e.getMessage(), e);
    }
  }

  private static Role role(String s) {
    switch (s) {
      case "worker":
        return Role.WORKER;
      case "cluster":
        return Role.CLUSTER;
      default:
        throw new MalformedMessageException("unknown role '" + s + "'");
    }
  }

  static ObjectNode record(SignedRecord r) {
    ObjectNode o = Json.obj();
    o.set("record", Json.record(r.record()));
    ArrayNode d = o.putArray("digests");
    r.digests().forEach(b -> d.add(Json.b64(b)));
    byte[] sig = r.signature();
    if (sig != null) {
      o.put("sig", Json.b64(sig));
    }
    return o;
  }

  static SignedRecord record(JsonNode n) {
    List<byte[]> digests = new ArrayList<>();
    for (JsonNode d : Json.array(n, "digests")) {
      if (!d.isTextual()) {
        throw new MalformedMessageException("digests are base64 strings");
      }
      digests.add(java.util.Base64.getDecoder().decode(d.asText()));
    }
    return SignedRecord.of(Json.record(Json.need(n, "record")), digests, Json.has(n, "sig") ? Json.bytes(n, "sig") : null);
  }

  static ObjectNode removal(SignedRemoval r) {
    ObjectNode o = Json.obj();
    o.put("service", r.service().toString());
    o.put("version", r.version());
    if (r.signature() != null) {
      o.put("sig", Json.b64(r.signature()));
    }
    return o;
  }

  static SignedRemoval removal(JsonNode n) {
    return SignedRemoval.of(ServiceId.parse(Json.text(n, "service")), Json.integer(n, "version"),
        Json.has(n, "sig") ? Json.bytes(n, "sig") : null);
  }

  static ObjectNode rules(SignedRules r) {
    ObjectNode o = Json.obj();
    o.put("version", r.version());
    ArrayNode g = o.putArray("grants");
    r.rules().grants().forEach(x -> g.add(Json.grant(x)));
    if (r.signature() != null) {
      o.put("sig", Json.b64(r.signature()));
    }
    return o;
  }

  static SignedRules rules(JsonNode n) {
    List<Grant> grants = new ArrayList<>();
    for (JsonNode g : Json.array(n, "grants")) {
      grants.add(Json.grant(g));
    }
    return SignedRules.of(Json.integer(n, "version"), IsolationRules.of(grants), Json.has(n, "sig") ? Json.bytes(n, "sig") : null);
  }

  static ObjectNode revocations(SignedRevocations r) {
    ObjectNode o = Json.obj();
    o.put("version", r.version());
    ArrayNode a = o.putArray("revoked");
    r.revoked().forEach(c -> a.add(Json.revoked(c)));
    if (r.signature() != null) {
      o.put("sig", Json.b64(r.signature()));
    }
    return o;
  }

  static SignedRevocations revocations(JsonNode n) {
    List<RevokedCertificate> l = new ArrayList<>();
    for (JsonNode c : Json.array(n, "revoked")) {
      l.add(Json.revoked(c));
    }
    return SignedRevocations.of(Json.integer(n, "version"), l, Json.has(n, "sig") ? Json.bytes(n, "sig") : null);
  }

  static ObjectNode heartbeat(SignedHeartbeat h) {
    ObjectNode o = Json.obj();
    o.put("epoch", h.epoch());
    o.put("issued", h.issuedAtMillis());
    o.put("expires", h.expiresAtMillis());
    o.put("rules", h.rulesVersion());
    ObjectNode v = o.putObject("versions");
    h.versions().forEach((s, x) -> v.put(s.toString(), x));
    if (h.signature() != null) {
      o.put("sig", Json.b64(h.signature()));
    }
    return o;
  }

  static SignedHeartbeat heartbeat(JsonNode n) {
    JsonNode v = Json.need(n, "versions");
    if (!v.isObject()) {
      throw new MalformedMessageException("heartbeat versions must be an object");
    }
    if (v.size() > SignedHeartbeat.MAX_SERVICES) {
      throw new MalformedMessageException("heartbeat lists " + v.size() + " services, at most " + SignedHeartbeat.MAX_SERVICES);
    }
    java.util.Map<ServiceId, Long> versions = new java.util.HashMap<>();
    var it = v.fields();
    while (it.hasNext()) {
      var e = it.next();
      if (!e.getValue().canConvertToLong() || !e.getValue().isIntegralNumber()) {
        throw new MalformedMessageException("heartbeat version of '" + e.getKey() + "' must be an integer");
      }
      versions.put(ServiceId.parse(e.getKey()), e.getValue().asLong());
    }
    return SignedHeartbeat.of(Json.integer(n, "epoch"), Json.integer(n, "issued"), Json.integer(n, "expires"),
        Json.integer(n, "rules"), versions, Json.has(n, "sig") ? Json.bytes(n, "sig") : null);
  }

  // ---- public wire forms of the value types a remote node or orchestrator needs (same JSON as inside messages)

  /** The wire form of a node registration ({@code node, cluster, endpoint, location?, subnet4?, subnet6?, certificate?}). */
  public static ObjectNode toJson(NodeRegistration r) {
    return Json.node(r);
  }

  /** Reads {@link #toJson(NodeRegistration)}; throws {@link MalformedMessageException} naming the problem. */
  public static NodeRegistration nodeRegistration(JsonNode n) {
    return value(() -> Json.node(n));
  }

  /** The wire form of a signed registration ({@code {"body": "<signed JSON text>", "sig": "<b64>"}}). */
  public static ObjectNode toJson(SignedRegistration r) {
    ObjectNode o = Json.obj();
    o.put("body", r.body());
    o.put("sig", Json.b64(r.signature()));
    return o;
  }

  /** Reads {@link #toJson(SignedRegistration)} (does not verify it). */
  public static SignedRegistration signedRegistration(JsonNode n) {
    return value(() -> SignedRegistration.of(Json.text(n, "body"), Json.bytes(n, "sig")));
  }

  /** The wire form of an (unsigned) service record, as inside {@code record} messages. */
  public static ObjectNode toJson(ServiceRecord r) {
    return Json.record(r);
  }

  /** Reads {@link #toJson(ServiceRecord)}. */
  public static ServiceRecord serviceRecord(JsonNode n) {
    return value(() -> Json.record(n));
  }

  /**
   * The wire form of one instance with its service ({@code service, ordinal, ip4?, ip6?, locator?, meta}): what a
   * migration's destination needs from the source to restore the instance keeping its addresses.
   */
  public static ObjectNode toJson(InstanceRecord r) {
    ObjectNode o = Json.obj();
    o.put("service", r.service().toString());
    o.setAll(Json.instance(r));
    return o;
  }

  /** Reads {@link #toJson(InstanceRecord)}. */
  public static InstanceRecord instanceRecord(JsonNode n) {
    return value(() -> Json.instance(ServiceId.parse(Json.text(n, "service")), n));
  }

  /** The wire form of a root-signed service record, as inside {@code record} messages (the signature survives). */
  public static ObjectNode toJson(SignedRecord r) {
    return record(r);
  }

  /** Reads {@link #toJson(SignedRecord)} (does not verify it). */
  public static SignedRecord signedRecord(JsonNode n) {
    return value(() -> record(n));
  }

  /** The wire form of a locator ({@code ns4?, ns6?, version, worker}). */
  public static ObjectNode toJson(Locator l) {
    return Json.locator(l);
  }

  /** Reads {@link #toJson(Locator)}. */
  public static Locator locator(JsonNode n) {
    return value(() -> Json.locator(n));
  }

  /** The wire form of a worker endpoint ({@code node, ip, port, key}). */
  public static ObjectNode toJson(WorkerEndpoint w) {
    return Json.endpoint(w);
  }

  /** Reads {@link #toJson(WorkerEndpoint)}. */
  public static WorkerEndpoint workerEndpoint(JsonNode n) {
    return value(() -> Json.endpoint(n));
  }

  /** The wire form of an address plan (see {@link SignedRegistration}). */
  public static ObjectNode toJson(AddressPlan p) {
    return Json.plan(p);
  }

  /** Reads {@link #toJson(AddressPlan)}. */
  public static AddressPlan addressPlan(JsonNode n) {
    return value(() -> Json.plan(n));
  }

  private static <T> T value(java.util.function.Supplier<T> read) {
    try {
      return read.get();
    } catch (MalformedMessageException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new MalformedMessageException("malformed value: " + e.getMessage(), e);
    }
  }
}
