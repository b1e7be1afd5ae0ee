package io.semnet.samples.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.semnet.core.address.Addresses;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.control.Orchestration;
import io.semnet.control.RemoteOrchestration;
import io.semnet.control.ServiceDescriptor;
import io.semnet.samples.cluster.LocalCluster;
import io.semnet.node.Attachment;
import io.semnet.node.InstanceTarget;
import io.semnet.node.WorkerNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * A node agent with a small REST API, like the thesis's Environment Manager (§3.5.2): the node is
 * registered (and gets its subnets) when the agent starts; instances are plugged in by network
 * namespace name or container PID and unplugged again. It fronts the orchestrator too, so a service
 * can be deployed with one request. The orchestrator is any {@link Orchestration}: across machines a
 * {@link RemoteOrchestration} over the node's MQTT transport, signed with the operator's key (what
 * the {@code semnet-agent} process does); in one JVM the in-process control plane's.
 *
 * <pre>
 * GET    /node                                   the node: id, subnets, tunnel endpoint
 * POST   /services   {"service":"app.ns.svc.ns","instances":2}           deploy; returns the ServiceIPs
 * POST   /instances  {"service":"app.ns.svc.ns","ordinal":0,"netns":"x"} plug a namespace in (or "pid":1234)
 * GET    /instances                              instances on this node
 * DELETE /instances/app.ns.svc.ns/0              unplug
 * </pre>
 * Errors answer 400 (bad request) or 404 (unknown) with {"error": reason}; nothing changes.
 */
public final class NodeAgent implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Orchestration orchestration;
  private final WorkerNode node;
  private final HttpServer http;
  private final Map<String, Plugged> plugged = new LinkedHashMap<>();

  private record Plugged(ServiceId service, int ordinal, String netns, Attachment attachment) {}

  public NodeAgent(Orchestration orchestration, WorkerNode node, InetSocketAddress listen) throws IOException {
    this.orchestration = orchestration;
    this.node = node;
    this.http = HttpServer.create(listen, 16);
    http.setExecutor(Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "node-agent-http");
      t.setDaemon(true);
      return t;
    }));
    http.createContext("/node", ex -> handle(ex, this::node));
    http.createContext("/services", ex -> handle(ex, this::services));
    http.createContext("/instances", ex -> handle(ex, this::instances));
    http.start();
  }

  public InetSocketAddress address() {
    return http.getAddress();
  }

  private interface Handler {
    Object handle(String method, String path, JsonNode body) throws Exception;
  }

  private static final class HttpError extends RuntimeException {
    final int status;

    HttpError(int status, String message) {
      super(message);
      this.status = status;
    }
  }

  private void handle(HttpExchange ex, Handler h) throws IOException {
    int status = 200;
    Object out;
    try (InputStream in = ex.getRequestBody()) {
      byte[] raw = in.readNBytes(64 * 1024);
      JsonNode body = raw.length == 0 ? JSON.createObjectNode() : JSON.readTree(raw);
      out = h.handle(ex.getRequestMethod(), ex.getRequestURI().getPath(), body);
    } catch (HttpError e) {
      status = e.status;
      out = Map.of("error", e.getMessage());
    } catch (IllegalArgumentException | IllegalStateException | com.fasterxml.jackson.core.JsonProcessingException e) {
      status = 400;
      out = Map.of("error", String.valueOf(e.getMessage()));
    } catch (Exception e) {
      status = 500;
      out = Map.of("error", e.toString());
    }
    byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(out);
    ex.getResponseHeaders().add("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
    ex.close();
  }

  private Object node(String method, String path, JsonNode body) {
    require(method, "GET");
    ObjectNode n = JSON.createObjectNode();
    n.put("nodeId", node.nodeId());
    n.put("subnetV4", node.registration().subnetV4().toString());
    n.put("subnetV6", node.registration().subnetV6().toString());
    n.put("tunnel", node.endpoint().address().toString());
    n.put("online", node.resolver().isOnline());
    return n;
  }

  private Object services(String method, String path, JsonNode body) {
    require(method, "POST");
    ServiceId id = ServiceId.parse(text(body, "service"));
    int instances = body.path("instances").asInt(1);
    ServiceRecord r = orchestration.deploy(ServiceDescriptor.builder(id).instances(instances).build());
    Map<String, String> ips = new LinkedHashMap<>();
    r.serviceIps().forEach(ip -> ips.merge(ip.policy(), Addresses.format(ip.address()), (a, b) -> a + " " + b));
    return Map.of("service", id.toString(), "version", r.version(), "serviceIps", ips);
  }

  private synchronized Object instances(String method, String path, JsonNode body) throws Exception {
    String rest = path.substring("/instances".length());
    if (method.equals("GET") && rest.isEmpty()) {
      Map<String, Object> out = new LinkedHashMap<>();
      plugged.forEach((k, p) -> out.put(k, describe(p)));
      return out;
    }
    if (method.equals("POST") && rest.isEmpty()) {
      ServiceId id = ServiceId.parse(text(body, "service"));
      int ordinal = body.path("ordinal").asInt(-1);
      if (ordinal < 0) {
        throw new HttpError(400, "'ordinal' must be a non-negative integer");
      }
      String key = id + "/" + ordinal;
      if (plugged.containsKey(key)) {
        throw new HttpError(400, key + " is already plugged in");
      }
      InstanceTarget target;
      String netns;
      if (body.hasNonNull("netns")) {
        netns = body.get("netns").asText();
        if (!io.semnet.proxy.tun.NetworkNamespace.exists(netns)) {
          throw new HttpError(404, "no network namespace '" + netns + "'");
        }
        target = InstanceTarget.netns(netns);
      } else if (body.hasNonNull("pid")) {
        long pid = body.get("pid").asLong();
        if (pid <= 0 || ProcessHandle.of(pid).isEmpty()) {
          throw new HttpError(404, "no process " + pid);
        }
        netns = "pid " + pid;
        target = InstanceTarget.pid(pid);
      } else {
        throw new HttpError(400, "give 'netns' (a named network namespace) or 'pid' (a container's process)");
      }
      if (orchestration.record(id) == null) {
        throw new HttpError(404, "service " + id + " is not deployed");
      }
      try {
        Attachment a = node.attach(target, loc -> orchestration.placeInstance(id, ordinal, loc).instance(ordinal));
        Plugged p = new Plugged(id, ordinal, netns, a);
        plugged.put(key, p);
        return describe(p);
      } catch (RuntimeException e) {
        throw new HttpError(400, e.getMessage());
      }
    }
    if (method.equals("DELETE") && rest.startsWith("/")) {
      String key = rest.substring(1).replaceFirst("/(\\d+)$", "/$1");
      Plugged p = plugged.remove(key);
      if (p == null) {
        throw new HttpError(404, "nothing plugged in as " + key);
      }
      node.detach(p.attachment());
      orchestration.unplaceInstance(p.service(), p.ordinal());
      return Map.of("removed", key);
    }
    throw new HttpError(405, method + " " + path + " is not supported");
  }

  private static Map<String, Object> describe(Plugged p) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("service", p.service().toString());
    m.put("ordinal", p.ordinal());
    m.put("netns", p.netns());
    m.put("namespaceIpv4", Addresses.format(p.attachment().ipv4()));
    m.put("namespaceIpv6", Addresses.format(p.attachment().ipv6()));
    m.put("instanceIpv4", Addresses.format(p.attachment().record().instanceIpv4().address()));
    m.put("instanceIpv6", Addresses.format(p.attachment().record().instanceIpv6().address()));
    return m;
  }

  private static void require(String method, String expected) {
    if (!method.equals(expected)) {
      throw new HttpError(405, "use " + expected);
    }
  }

  private static String text(JsonNode body, String field) {
    JsonNode n = body.get(field);
    if (n == null || !n.isTextual()) {
      throw new HttpError(400, "'" + field + "' is required");
    }
    return n.asText();
  }

  @Override
  public void close() {
    http.stop(0);
    ((java.util.concurrent.ExecutorService) http.getExecutor()).shutdownNow();
  }

  /** Runs one node of an in-process cluster with its agent on 127.0.0.1:8181 until Ctrl-C. */
  public static void main(String[] args) throws Exception {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 8181;
    LocalCluster cluster = new LocalCluster();
    WorkerNode w = cluster.addWorker("agent-w1", GeoPoint.of(48.14, 11.58));
    NodeAgent agent = new NodeAgent(cluster.orchestration(), w, new InetSocketAddress("127.0.0.1", port));
    Runtime.getRuntime().addShutdownHook(new Thread(agent::close));
    System.out.println("node agent for " + w.nodeId() + " on http://127.0.0.1:" + port + " (Ctrl-C to stop); try:");
    System.out.println("  curl -s localhost:" + port + "/node");
    System.out.println("  curl -s -XPOST localhost:" + port + "/services -d '{\"service\":\"web.tum.hello.prod\",\"instances\":1}'");
    System.out.println("  ip netns add myapp && curl -s -XPOST localhost:" + port
        + "/instances -d '{\"service\":\"web.tum.hello.prod\",\"ordinal\":0,\"netns\":\"myapp\"}'");
    System.out.println("  curl -s -XDELETE localhost:" + port + "/instances/web.tum.hello.prod/0");
    Thread.currentThread().join();
  }
}
