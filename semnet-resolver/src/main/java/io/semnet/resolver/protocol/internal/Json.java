package io.semnet.resolver.protocol.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semnet.core.address.Addresses;
import io.semnet.core.address.IpPrefix;
import io.semnet.core.address.ServiceIp;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.isolation.Grant;
import io.semnet.core.isolation.ServiceSelector;
import io.semnet.core.plan.InstanceAddressRule;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceMetadata;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.NodeCertificate;
import io.semnet.core.trust.RevokedCertificate;
import io.semnet.resolver.NodeRegistration;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * JSON forms of the core value types, written and read by hand so the schema is explicit and every
 * field is validated on the way in (a malformed document throws {@link IllegalArgumentException}
 * naming the field; it never yields a half-built value). Used by the root's journal and by network
 * transports.
 */
public final class Json {
  public static final ObjectMapper MAPPER = new ObjectMapper();

  private Json() {}

  public static ObjectNode obj() {
    return MAPPER.createObjectNode();
  }

  // ---- primitives

  public static JsonNode need(JsonNode n, String field) {
    JsonNode v = n == null ? null : n.get(field);
    if (v == null || v.isNull()) {
      throw new IllegalArgumentException("missing field '" + field + "'");
    }
    return v;
  }

  public static String text(JsonNode n, String field) {
    JsonNode v = need(n, field);
    if (!v.isTextual()) {
      throw new IllegalArgumentException("field '" + field + "' must be a string");
    }
    return v.asText();
  }

  public static long integer(JsonNode n, String field) {
    JsonNode v = need(n, field);
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw new IllegalArgumentException("field '" + field + "' must be an integer");
    }
    return v.asLong();
  }

  public static boolean bool(JsonNode n, String field) {
    JsonNode v = need(n, field);
    if (!v.isBoolean()) {
      throw new IllegalArgumentException("field '" + field + "' must be a boolean");
    }
    return v.asBoolean();
  }

  public static double number(JsonNode n, String field) {
    JsonNode v = need(n, field);
    if (!v.isNumber()) {
      throw new IllegalArgumentException("field '" + field + "' must be a number");
    }
    return v.asDouble();
  }

  public static ArrayNode array(JsonNode n, String field) {
    JsonNode v = need(n, field);
    if (!v.isArray()) {
      throw new IllegalArgumentException("field '" + field + "' must be an array");
    }
    return (ArrayNode) v;
  }

  public static boolean has(JsonNode n, String field) {
    return n.has(field) && !n.get(field).isNull();
  }

  public static byte[] bytes(JsonNode n, String field) {
    try {
      return Base64.getDecoder().decode(text(n, field));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("field '" + field + "' is not base64", e);
    }
  }

  public static String b64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }

  public static InetAddress address(JsonNode n, String field) {
    return Addresses.parseLiteral(text(n, field));
  }

  public static InetAddress optAddress(JsonNode n, String field) {
    return has(n, field) ? address(n, field) : null;
  }

  private static void putAddr(ObjectNode o, String field, InetAddress a) {
    if (a != null) {
      o.put(field, Addresses.format(a));
    }
  }

  // ---- value types

  public static ObjectNode geo(GeoPoint g) {
    ObjectNode o = obj();
    o.put("lat", g.latitude());
    o.put("lon", g.longitude());
    return o;
  }

  public static GeoPoint geo(JsonNode n) {
    return n == null || n.isNull() ? null : GeoPoint.of(number(n, "lat"), number(n, "lon"));
  }

  public static ObjectNode endpoint(WorkerEndpoint w) {
    ObjectNode o = obj();
    o.put("node", w.nodeId());
    o.put("ip", Addresses.format(w.address().getAddress()));
    o.put("port", w.address().getPort());
    o.put("key", b64(w.publicKey()));
    return o;
  }

  public static WorkerEndpoint endpoint(JsonNode n) {
    long port = integer(n, "port");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port out of range");
    }
    return WorkerEndpoint.of(text(n, "node"), new InetSocketAddress(address(n, "ip"), (int) port), bytes(n, "key"));
  }

  public static ObjectNode locator(Locator l) {
    ObjectNode o = obj();
    putAddr(o, "ns4", l.namespaceIpv4());
    putAddr(o, "ns6", l.namespaceIpv6());
    o.set("worker", endpoint(l.worker()));
    o.put("version", l.version());
    if (l.previous() != null) {
      o.set("previous", endpoint(l.previous()));
      o.put("movedAt", l.movedAtMillis());
    }
    return o;
  }

  public static Locator locator(JsonNode n) {
    if (n == null || n.isNull()) {
      return null;
    }
    Locator l = Locator.of(optAddress(n, "ns4"), optAddress(n, "ns6"), endpoint(need(n, "worker")), integer(n, "version"));
    JsonNode prev = n.get("previous");
    return prev == null || prev.isNull() ? l : l.movedFrom(endpoint(prev), integer(n, "movedAt"));
  }

  public static ObjectNode metadata(InstanceMetadata m) {
    ObjectNode o = obj();
    if (m.location() != null) {
      o.set("location", geo(m.location()));
    }
    o.put("capacity", m.capacity());
    o.put("zone", m.zone());
    return o;
  }

  public static InstanceMetadata metadata(JsonNode n) {
    return InstanceMetadata.of(geo(n.get("location")), number(n, "capacity"), text(n, "zone"));
  }

  public static ObjectNode instance(InstanceRecord r) {
    ObjectNode o = obj();
    o.put("ordinal", r.ordinal());
    putAddr(o, "ip4", r.instanceIpv4() == null ? null : r.instanceIpv4().address());
    putAddr(o, "ip6", r.instanceIpv6() == null ? null : r.instanceIpv6().address());
    if (r.locator() != null) {
      o.set("locator", locator(r.locator()));
    }
    o.set("meta", metadata(r.metadata()));
    return o;
  }

  public static InstanceRecord instance(ServiceId service, JsonNode n) {
    long ord = integer(n, "ordinal");
    if (ord < 0 || ord > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("ordinal out of range");
    }
    return InstanceRecord.of(service, (int) ord, optAddress(n, "ip4"), optAddress(n, "ip6"), locator(n.get("locator")),
        metadata(need(n, "meta")));
  }

  public static ObjectNode record(ServiceRecord r) {
    ObjectNode o = obj();
    o.put("service", r.service().toString());
    o.put("version", r.version());
    ArrayNode ips = o.putArray("serviceIps");
    for (ServiceIp ip : r.serviceIps()) {
      ips.addObject().put("policy", ip.policy()).put("ip", Addresses.format(ip.address()));
    }
    ArrayNode is = o.putArray("instances");
    for (InstanceRecord i : r.instances()) {
      is.add(instance(i));
    }
    return o;
  }

  public static ServiceRecord record(JsonNode n) {
    ServiceId sid = ServiceId.parse(text(n, "service"));
    List<ServiceIp> ips = new ArrayList<>();
    for (JsonNode ip : array(n, "serviceIps")) {
      ips.add(ServiceIp.of(sid, text(ip, "policy"), address(ip, "ip")));
    }
    List<InstanceRecord> is = new ArrayList<>();
    for (JsonNode i : array(n, "instances")) {
      is.add(instance(sid, i));
    }
    return ServiceRecord.of(sid, integer(n, "version"), ips, is);
  }

  public static ObjectNode rule(InstanceAddressRule r) {
    ObjectNode o = obj();
    if (r == InstanceAddressRule.NONE) {
      return o;
    }
    o.put("from", r.fromOrdinal());
    o.put("to", r.toOrdinal());
    putAddr(o, "ip4From", r.ipv4From());
    putAddr(o, "ip6From", r.ipv6From());
    return o;
  }

  public static InstanceAddressRule rule(JsonNode n) {
    if (n == null || n.isNull() || !n.has("from")) {
      return InstanceAddressRule.NONE;
    }
    return InstanceAddressRule.of((int) integer(n, "from"), (int) integer(n, "to"), optAddress(n, "ip4From"), optAddress(n, "ip6From"));
  }

  public static ObjectNode grant(Grant g) {
    ObjectNode o = obj();
    o.put("from", g.from().toString());
    o.put("to", g.to().toString());
    return o;
  }

  public static Grant grant(JsonNode n) {
    return Grant.of(ServiceSelector.parse(text(n, "from")), ServiceSelector.parse(text(n, "to")));
  }

  public static ObjectNode revoked(RevokedCertificate c) {
    ObjectNode o = obj();
    o.put("serial", c.serial()).put("node", c.nodeId()).put("key", b64(c.publicKey())).put("notAfter", c.notAfter().getEpochSecond());
    return o;
  }

  public static RevokedCertificate revoked(JsonNode n) {
    return RevokedCertificate.of(integer(n, "serial"), text(n, "node"), bytes(n, "key"), java.time.Instant.ofEpochSecond(integer(n, "notAfter")));
  }

  public static ObjectNode node(NodeRegistration r) {
    ObjectNode o = obj();
    o.put("node", r.nodeId());
    o.put("cluster", r.clusterId());
    o.set("endpoint", endpoint(r.endpoint()));
    if (r.location() != null) {
      o.set("location", geo(r.location()));
    }
    if (r.subnetV4() != null) {
      o.put("subnet4", r.subnetV4().toString());
    }
    if (r.subnetV6() != null) {
      o.put("subnet6", r.subnetV6().toString());
    }
    if (r.certificate() != null) {
      o.put("certificate", b64(r.certificate().encode()));
    }
    return o;
  }

  public static NodeRegistration node(JsonNode n) {
    return new NodeRegistration(text(n, "node"), text(n, "cluster"), endpoint(need(n, "endpoint")), geo(n.get("location")),
        has(n, "subnet4") ? IpPrefix.parse(text(n, "subnet4")) : null,
        has(n, "subnet6") ? IpPrefix.parse(text(n, "subnet6")) : null,
        has(n, "certificate") ? NodeCertificate.decode(bytes(n, "certificate")) : null);
  }

  public static ObjectNode plan(io.semnet.core.plan.AddressPlan p) {
    ObjectNode o = obj();
    for (boolean v4 : new boolean[] {true, false}) {
      io.semnet.core.plan.AddressPlan.Family f = p.family(v4);
      if (f != null) {
        o.putObject(v4 ? "ipv4" : "ipv6").put("range", f.platformRange().toString()).put("nodeSubnet", f.nodeSubnetLength())
            .put("clusterPool", f.clusterPoolLength()).put("virtual", f.virtualRange().toString());
      }
    }
    o.put("quarantineSeconds", p.quarantine().getSeconds());
    return o;
  }

  public static io.semnet.core.plan.AddressPlan plan(JsonNode n) {
    io.semnet.core.plan.AddressPlan.Builder b = io.semnet.core.plan.AddressPlan.builder()
        .quarantine(java.time.Duration.ofSeconds(integer(n, "quarantineSeconds")));
    for (String fam : new String[] {"ipv4", "ipv6"}) {
      JsonNode f = n.get(fam);
      io.semnet.core.plan.AddressPlan.Family family = f == null || f.isNull() ? null
          : new io.semnet.core.plan.AddressPlan.Family(IpPrefix.parse(text(f, "range")), (int) integer(f, "nodeSubnet"),
              (int) integer(f, "clusterPool"), IpPrefix.parse(text(f, "virtual")));
      if (fam.equals("ipv4")) {
        b.ipv4(family);
      } else {
        b.ipv6(family);
      }
    }
    return b.build();
  }
}
