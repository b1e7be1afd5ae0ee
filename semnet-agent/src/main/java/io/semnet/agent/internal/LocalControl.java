package io.semnet.agent.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semnet.control.Orchestration;
import io.semnet.core.service.ServiceId;
import io.semnet.node.Attachment;
import io.semnet.node.InstanceTarget;
import io.semnet.node.WorkerNode;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's local control: a Unix domain socket ({@code <stateDir>/control.sock}, mode 0600 in a
 * 0700 directory, so only the agent's user reaches it) taking one JSON request per connection and
 * answering one JSON line. Operations: {@code attach} (an instance by {@code netns} or {@code pid},
 * placed as {@code service}/{@code ordinal} through the orchestration API), {@code detach}
 * ({@code netns}: unplaced at the root, then unwired) and {@code list}. Closing it (the agent's
 * SIGTERM) unplaces and detaches every instance attached through it, so a restarted node does not
 * find its namespace addresses still taken. Requests are at most 4 KiB; one at a time, on one daemon
 * thread, so a client that connects and sends nothing holds the socket until it goes (only the
 * agent's own user can connect; the data path never waits for it).
 * The admin HTTP server stays read-only.
 */
public final class LocalControl implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LocalControl.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  static final int MAX_REQUEST = 4096;

  private final Path socket;
  private final WorkerNode node;
  private final Orchestration orchestration;
  private final Map<String, Attachment> attached = new LinkedHashMap<>();
  private ServerSocketChannel server;
  private Thread thread;

  LocalControl(Path socket, WorkerNode node, Orchestration orchestration) {
    this.socket = socket;
    this.node = node;
    this.orchestration = orchestration;
  }

  LocalControl start() throws IOException {
    Files.deleteIfExists(socket);
    server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(socket));
    Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    thread = new Thread(this::serve, "semnet-agent-control");
    thread.setDaemon(true);
    thread.start();
    return this;
  }

  private void serve() {
    while (server.isOpen()) {
      try (SocketChannel c = server.accept()) {
        String reply;
        try {
          reply = handle(JSON.readTree(read(c))).toString();
        } catch (Exception e) {
          reply = error(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()).toString();
        }
        c.write(ByteBuffer.wrap((reply + "\n").getBytes(StandardCharsets.UTF_8)));
      } catch (IOException e) {
        if (server.isOpen()) {
          log.warn("local control connection failed: {}", e.getMessage());
        }
      }
    }
  }

  private static byte[] read(SocketChannel c) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(MAX_REQUEST);
    while (buf.hasRemaining()) {
      int n = c.read(buf);
      if (n < 0) {
        break;
      }
      if (buf.get(buf.position() - 1) == '\n') {
        break;
      }
    }
    if (!buf.hasRemaining()) {
      throw new IOException("request larger than " + MAX_REQUEST + " bytes");
    }
    byte[] out = new byte[buf.position()];
    buf.flip().get(out);
    return out;
  }

  private synchronized ObjectNode handle(JsonNode r) {
    String op = r.path("op").asText("");
    switch (op) {
      case "attach": return attach(r);
      case "detach": return detach(r.path("netns").asText());
      case "list": {
        ObjectNode o = ok();
        attached.forEach((ns, a) -> o.set(ns, describe(a)));
        return o;
      }
      default: return error("unknown op '" + op + "' (attach, detach, list)");
    }
  }

  private ObjectNode attach(JsonNode r) {
    if (orchestration == null) {
      return error("this agent has no orchestrator key (orchestrator.keyFile): it cannot place instances");
    }
    ServiceId service = ServiceId.parse(r.path("service").asText());
    int ordinal = r.path("ordinal").asInt(-1);
    if (ordinal < 0) {
      return error("ordinal is missing");
    }
    InstanceTarget target = r.hasNonNull("netns") ? InstanceTarget.netns(r.get("netns").asText()) : InstanceTarget.pid(r.path("pid").asLong());
    Attachment a = node.attach(target, loc -> orchestration.placeInstance(service, ordinal, loc).instance(ordinal));
    attached.put(a.namespace(), a);
    log.info("attached {}#{} in namespace {} ({})", service, ordinal, a.namespace(), a.ipv4());
    ObjectNode o = ok();
    o.set("attachment", describe(a));
    return o;
  }

  private ObjectNode detach(String ns) {
    Attachment a = attached.remove(ns);
    if (a == null) {
      return error("nothing attached in namespace '" + ns + "'");
    }
    unplaceAndDetach(a);
    return ok();
  }

  /** Withdraws the instance at the root (so its addresses are free again), then removes its wiring. */
  private void unplaceAndDetach(Attachment a) {
    try {
      if (orchestration != null && a.record() != null) {
        orchestration.unplaceInstance(a.record().service(), a.record().ordinal());
      }
    } catch (RuntimeException e) {
      log.warn("could not unplace {}#{} at the root: {}", a.record().service(), a.record().ordinal(), e.getMessage());
    } finally {
      node.detach(a);
    }
  }

  private static ObjectNode describe(Attachment a) {
    ObjectNode o = JSON.createObjectNode();
    o.put("namespace", a.namespace());
    o.put("ipv4", a.ipv4() == null ? null : a.ipv4().getHostAddress());
    o.put("ipv6", a.ipv6() == null ? null : a.ipv6().getHostAddress());
    if (a.record() != null) {
      o.put("service", a.record().service().toString());
      o.put("ordinal", a.record().ordinal());
      o.put("instanceIpv4", a.record().instanceIpv4() == null ? null : a.record().instanceIpv4().address().getHostAddress());
    }
    return o;
  }

  private static ObjectNode ok() {
    return JSON.createObjectNode().put("ok", true);
  }

  private static ObjectNode error(String message) {
    return JSON.createObjectNode().put("ok", false).put("error", message);
  }

  /** Sends one request to the agent whose socket is {@code socket}; returns its answer. */
  public static JsonNode call(Path socket, ObjectNode request) throws IOException {
    try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
      c.write(ByteBuffer.wrap((request.toString() + "\n").getBytes(StandardCharsets.UTF_8)));
      c.shutdownOutput();
      return JSON.readTree(java.nio.channels.Channels.newInputStream(c));
    }
  }

  public static ObjectNode request(String op) {
    return JSON.createObjectNode().put("op", op);
  }

  /** Stops taking requests, then unplaces and detaches every instance attached through it. */
  @Override
  public void close() throws IOException {
    if (server != null) {
      server.close();
    }
    Files.deleteIfExists(socket);
    synchronized (this) {
      attached.values().forEach(this::unplaceAndDetach);
      attached.clear();
    }
  }
}
