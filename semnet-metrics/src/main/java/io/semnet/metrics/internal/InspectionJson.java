package io.semnet.metrics.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semnet.core.address.Addresses;
import io.semnet.core.address.InstanceIp;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.node.WorkerNode;
import io.semnet.proxy.FlowInfo;
import io.semnet.tunnel.LinkStats;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The JSON documents of a node's inspection endpoints, built as trees (no reflection): flows,
 * links and routes, each with {@code total}, {@code shown} and {@code truncated} so a bounded
 * answer says it is bounded.
 */
public final class InspectionJson {
  private static final ObjectMapper JSON = new ObjectMapper();

  private InspectionJson() {}

  /** Up to {@code limit} of the translator's flows. */
  public static byte[] flows(WorkerNode node, int limit) throws Exception {
    List<FlowInfo> flows = node.translator().flows(limit);
    ObjectNode root = JSON.createObjectNode();
    int total = node.translator().flowCount();
    root.put("node", node.nodeId()).put("total", total).put("shown", flows.size()).put("truncated", flows.size() < total);
    ArrayNode arr = root.putArray("flows");
    for (FlowInfo f : flows) {
      ObjectNode o = arr.addObject();
      o.put("protocol", protocol(f.protocol()));
      o.put("direction", f.client() ? "client" : "server");
      o.put("source", Addresses.format(f.source())).put("sourcePort", f.sourcePort());
      o.put("destination", Addresses.format(f.destination())).put("destinationPort", f.destinationPort());
      o.put("translatedSource", Addresses.format(f.translatedSource()));
      o.put("translatedDestination", Addresses.format(f.translatedDestination()));
      o.put("instance", f.instance() == null ? null : f.instance().toString());
      o.put("peer", f.peer());
      o.put("ageMillis", f.ageMillis()).put("idleMillis", f.idleMillis());
      o.put("bytesOut", f.bytesOut()).put("bytesIn", f.bytesIn());
    }
    return JSON.writeValueAsBytes(root);
  }

  /** The tunnel's links (bounded by its link limit) with the node view's RTT and liveness. */
  public static byte[] links(WorkerNode node, int limit) throws Exception {
    List<LinkStats> links = node.tunnel().stats().links();
    LocalNodeView view = node.view();
    ObjectNode root = JSON.createObjectNode();
    int shown = Math.min(limit, links.size());
    root.put("node", node.nodeId()).put("total", links.size()).put("shown", shown).put("truncated", shown < links.size());
    ArrayNode arr = root.putArray("links");
    for (LinkStats l : links.subList(0, shown)) {
      String peer = l.peer().nodeId();
      ObjectNode o = arr.addObject();
      o.put("peer", peer);
      o.put("endpoint", Addresses.format(l.peer().address().getAddress()) + ":" + l.peer().address().getPort());
      o.put("established", l.established()).put("up", l.up() && view.isPeerUp(peer));
      o.put("keyId", l.keyId());
      o.put("keyAgeSeconds", l.keyAgeNanos() < 0 ? null : l.keyAgeNanos() / 1_000_000_000L);
      o.put("rttMillis", l.lastRttNanos() < 0 ? null : l.lastRttNanos() / 1e6);
      o.put("txPackets", l.txPackets()).put("txBytes", l.txBytes());
      o.put("rxPackets", l.rxPackets()).put("rxBytes", l.rxBytes());
      o.put("drops", l.drops());
    }
    return JSON.writeValueAsBytes(root);
  }

  /**
   * The routes the resolver holds: service, record version, ServiceIPs and instances. The
   * {@code ejected} list holds the ordinals of instances passive health checks took out of
   * new-flow selection ({@code NodeView.isEjected}).
   */
  public static byte[] routes(WorkerNode node, int limit) throws Exception {
    List<ServiceId> services = new ArrayList<>(node.resolver().cachedServices());
    services.sort(null);
    ObjectNode root = JSON.createObjectNode();
    int shown = Math.min(limit, services.size());
    root.put("node", node.nodeId()).put("total", services.size()).put("shown", shown).put("truncated", shown < services.size());
    ArrayNode arr = root.putArray("routes");
    for (ServiceId s : services.subList(0, shown)) {
      ServiceRecord r = node.resolver().record(s);
      if (r == null) {
        continue;
      }
      ObjectNode o = arr.addObject();
      o.put("service", s.toString()).put("version", r.version());
      ArrayNode ips = o.putArray("serviceIps");
      r.serviceIps().forEach(ip -> ips.addObject().put("policy", ip.policy()).put("address", Addresses.format(ip.address())));
      ArrayNode inst = o.putArray("instances");
      ArrayNode ejected = o.putArray("ejected");
      for (InstanceRecord i : r.instances()) {
        ObjectNode io = inst.addObject();
        io.put("ordinal", i.ordinal());
        io.put("instanceIpv4", format(i.instanceIpv4())).put("instanceIpv6", format(i.instanceIpv6()));
        Locator loc = i.locator();
        io.put("node", loc == null ? null : loc.worker().nodeId());
        io.put("namespaceIpv4", loc == null ? null : format(loc.namespaceIpv4()));
        io.put("locatorVersion", loc == null ? null : loc.version());
        io.put("peerUp", loc == null ? null : node.view().isPeerUp(loc.worker().nodeId()));
        boolean out = node.view().isEjected(i.key());
        io.put("ejected", out);
        if (out) {
          ejected.add(i.ordinal());
        }
      }
    }
    return JSON.writeValueAsBytes(root);
  }

  private static String format(InstanceIp ip) {
    return ip == null ? null : Addresses.format(ip.address());
  }

  private static String format(InetAddress a) {
    return a == null ? null : Addresses.format(a);
  }

  static String protocol(int p) {
    switch (p) {
      case 6:
        return "tcp";
      case 17:
        return "udp";
      case 1:
        return "icmp";
      case 58:
        return "icmpv6";
      default:
        return Integer.toString(p);
    }
  }
}
