package io.semnet.mqtt.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semnet.resolver.protocol.internal.Json;
import io.semnet.resolver.protocol.Ack;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.Drop;
import io.semnet.resolver.protocol.ErrorReply;
import io.semnet.resolver.protocol.AvailabilityPush;
import io.semnet.resolver.protocol.HeartbeatPush;
import io.semnet.resolver.protocol.EnrolReply;
import io.semnet.resolver.protocol.EnrolRequest;
import io.semnet.resolver.protocol.Hello;
import io.semnet.resolver.protocol.OrchestrationCall;
import io.semnet.resolver.protocol.OrchestrationResult;
import io.semnet.resolver.protocol.RenewRegistration;
import io.semnet.resolver.protocol.HelloReply;
import io.semnet.resolver.protocol.Query;
import io.semnet.resolver.protocol.QueryReply;
import io.semnet.resolver.protocol.RecordPush;
import io.semnet.resolver.protocol.RemovalPush;
import io.semnet.resolver.protocol.Renew;
import io.semnet.resolver.protocol.RenewReply;
import io.semnet.resolver.protocol.RevocationsPush;
import io.semnet.resolver.protocol.RulesPush;
import io.semnet.resolver.protocol.WireCodec;
import java.io.IOException;

/**
 * The MQTT envelope around the control protocol's JSON wire form ({@link WireCodec}, whose
 * object carries {@code v} and {@code type}): this class adds {@code kind} and, on requests and
 * replies, {@code id}, and encodes the transport's own presence messages. See
 * semnet-mqtt/README.md. Decoding is strict: anything that is not exactly a valid envelope of an
 * accepted schema version throws {@link Rejected} with a short reason and never yields a
 * partly-built message.
 *
 * <p>Versions: written in {@code current} (or the version asked for, to answer a peer in its own
 * version); read in {@code [minAccepted, current]}.
 */
public final class Envelope {
  public static final String REQUEST = "request";
  public static final String REPLY = "reply";
  public static final String PUSH = "push";
  public static final String STATE = "state";
  public static final String ALIVE = "alive";

  private final int current;
  private final int minAccepted;
  private final int maxBytes;

  public Envelope(int current, int minAccepted, int maxBytes) {
    if (minAccepted < 1 || minAccepted > current) {
      throw new IllegalArgumentException("accepted versions must be 1 <= min <= current");
    }
    this.current = current;
    this.minAccepted = minAccepted;
    this.maxBytes = maxBytes;
  }

  public int current() {
    return current;
  }

  public boolean accepts(int version) {
    return version >= minAccepted && version <= current;
  }

  /** A decoded envelope: exactly one of message (request, reply, push) or up/host (state, alive) is meaningful. */
  public record Inbound(int version, String kind, long id, ControlMessage message, boolean up, String host) {}

  /** A message that must be dropped; {@code id} is the request id if one could be read (else -1). */
  public static final class Rejected extends Exception {
    private static final long serialVersionUID = 1L;
    public final String reason;
    public final int version;
    public final long id;

    Rejected(String reason, String detail, int version, long id) {
      super(detail, null, false, false);
      this.reason = reason;
      this.version = version;
      this.id = id;
    }
  }

  // ---------------------------------------------------------------- encode

  public byte[] message(int version, String kind, long id, ControlMessage m) {
    ObjectNode o = WireCodec.toJson(m);
    o.put("v", version);
    o.put("kind", kind);
    if (!PUSH.equals(kind)) {
      o.put("id", id);
    }
    return bytes(o);
  }

  /*
   * Presence (state, alive) is retained and read by every generation in the window, so it is
   * written in the oldest accepted version.
   */
  public byte[] state(boolean up, String host) {
    ObjectNode o = Json.obj();
    o.put("v", minAccepted);
    o.put("kind", STATE);
    o.put("up", up);
    if (host != null) {
      o.put("host", host);
    }
    return bytes(o);
  }

  public byte[] alive(boolean up) {
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

  // ---------------------------------------------------------------- decode

  public Inbound decode(byte[] payload) throws Rejected {
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
          if (version > ControlMessage.SCHEMA_VERSION) {
            // Only reachable with the test hook that simulates a later generation of this code
            // whose message bodies equal today's: read the body with today's reader.
            ((ObjectNode) root).put("v", ControlMessage.SCHEMA_VERSION);
          }
          ControlMessage m = WireCodec.fromJson(root);
          if (PUSH.equals(kind) ? !mayPush(m) : !kindOf(m).equals(kind)) {
            throw new Rejected("unexpected type", "type '" + m.type() + "' is not a " + kind, version, id);
          }
          return new Inbound(version, kind, PUSH.equals(kind) ? -1 : id, m, false, null);
        }
        default:
          throw new IllegalArgumentException("unknown kind '" + kind + "'");
      }
    } catch (Rejected e) {
      throw e;
    } catch (RuntimeException e) {
      // WireCodec throws MalformedMessageException (an IllegalArgumentException) naming the
      // problem; nothing else may escape as anything but a drop either.
      throw new Rejected("invalid message", e.getMessage(), version, id);
    }
  }

  /**
   * True if {@code m} may travel as a push: the push types, and an orchestration result (the root's
   * node events pushed to a subscribed orchestrator).
   */
  public static boolean mayPush(ControlMessage m) {
    return m instanceof OrchestrationResult || PUSH.equals(kindOf(m));
  }

  /** Which envelope kind a message type travels as. */
  public static String kindOf(ControlMessage m) {
    if (m instanceof Hello || m instanceof Query || m instanceof Renew || m instanceof Drop || m instanceof EnrolRequest
        || m instanceof RenewRegistration || m instanceof OrchestrationCall) {
      return REQUEST;
    }
    if (m instanceof RecordPush || m instanceof RemovalPush || m instanceof RulesPush || m instanceof RevocationsPush
        || m instanceof HeartbeatPush || m instanceof AvailabilityPush) {
      return PUSH;
    }
    if (m instanceof HelloReply || m instanceof QueryReply || m instanceof RenewReply || m instanceof Ack || m instanceof ErrorReply
        || m instanceof EnrolReply || m instanceof OrchestrationResult) {
      return REPLY;
    }
    throw new IllegalArgumentException("unknown message type " + m.type());
  }
}
