package io.semnet.mqtt;

import io.semnet.resolver.transport.ClientChannel;
import io.semnet.resolver.transport.ControlTransport;
import io.semnet.resolver.transport.PushHandler;
import io.semnet.resolver.transport.RequestHandler;
import io.semnet.resolver.transport.ServerBinding;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import javax.net.ssl.SSLContext;

/**
 * A whole deployment over one real mosquitto, seen as one {@link ControlTransport}: every identity
 * (a manager id, or a client id) gets its own {@link MqttTransport} connection, as separate
 * processes would; a cluster manager's binding and its channel to the root share its connection.
 * {@link #cut} partitions one node from the broker (no DISCONNECT, so its Will fires), {@link #heal}
 * lets it reconnect. Used to run the transport-independent behavioural suite over MQTT. Owns the
 * broker.
 */
public final class MqttNodes implements ControlTransport {
  private final MosquittoBroker broker;
  private final String uri;
  private final Function<String, SSLContext> tls;
  private final Map<String, MqttTransport> nodes = new ConcurrentHashMap<>();

  private MqttNodes(MosquittoBroker broker, String uri, Function<String, SSLContext> tls) {
    this.broker = broker;
    this.uri = uri;
    this.tls = tls;
  }

  /** Nodes on a broker run by the caller, each with the TLS context {@code tls} gives for its id. */
  public static MqttNodes over(String sslUri, Function<String, SSLContext> tls) {
    return new MqttNodes(null, sslUri, tls);
  }

  /** Starts a private broker on loopback. */
  public static MqttNodes start() {
    try {
      MosquittoBroker b = MosquittoBroker.start();
      return new MqttNodes(b, b.tcpUri(), null);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private MqttTransport node(String id) {
    return nodes.computeIfAbsent(id, k -> {
      MqttTransport.Builder b = MqttTransport.builder().brokerUri(uri).clientId(k)
          .reconnectDelay(Duration.ofMillis(50), Duration.ofMillis(500));
      if (tls != null) {
        b.tls(tls.apply(k));
      }
      MqttTransport t = b.build();
      try {
        if (!t.awaitConnected(Duration.ofSeconds(10))) {
          throw new IllegalStateException("node " + k + " did not connect");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      return t;
    });
  }

  @Override
  public ServerBinding bind(String managerId, RequestHandler handler) {
    ServerBinding b = node(managerId).bind(managerId, handler);
    // In-process, a binding is visible at once; here, wait until every node with a channel to this
    // manager has seen its announcement, so suites written against either behave the same.
    try {
      settle(managerId);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return b;
  }

  private void settle(String managerId) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    for (MqttTransport n : nodes.values()) {
      while (n.watchedForTest().contains(managerId) && !n.seesUpForTest(managerId)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(n.nodeId() + " does not see manager " + managerId);
        }
        Thread.sleep(5);
      }
    }
  }

  @Override
  public ClientChannel connect(String managerId, String clientId, PushHandler pushHandler) {
    return node(clientId).connect(managerId, clientId, pushHandler);
  }

  /** Partitions node {@code id} from the broker. */
  public void cut(String id) {
    MqttTransport t = nodes.get(id);
    if (t != null) {
      t.suspendForTest();
    }
  }

  /**
   * Lets node {@code id} reconnect and waits until the network has settled: every node sees every
   * bound manager it has a channel to as up again (as after a real partition heals, only sooner).
   */
  public void heal(String id) throws InterruptedException {
    MqttTransport t = nodes.get(id);
    if (t == null) {
      return;
    }
    t.resumeForTest();
    if (!t.awaitConnected(Duration.ofSeconds(10))) {
      throw new IllegalStateException("node " + id + " did not reconnect");
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    Set<String> bound = new HashSet<>();
    for (MqttTransport n : nodes.values()) {
      bound.addAll(n.boundForTest());
    }
    for (MqttTransport n : nodes.values()) {
      for (String m : n.watchedForTest()) {
        while (bound.contains(m) && !n.seesUpForTest(m)) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException(n.nodeId() + " does not see manager " + m + " after healing " + id);
          }
          Thread.sleep(5);
        }
      }
    }
  }

  /** The broker's URI. */
  public String uri() {
    return uri;
  }

  /** Stops the broker abruptly (every node loses its connection). */
  public void stopBroker() {
    broker.stop();
  }

  /** Starts the broker again on the same port. */
  public void startBroker() throws IOException {
    broker.startAgain();
  }

  /** True if node {@code id} exists and is connected. */
  public boolean isConnected(String id) {
    MqttTransport t = nodes.get(id);
    return t != null && t.isConnected();
  }

  /** Inbound messages rejected by all nodes (a healthy run has none). */
  public long rejectedMessages() {
    return nodes.values().stream().mapToLong(MqttTransport::rejectedMessages).sum();
  }

  /** Reasons that say only that a message met a node mid-restart (manager unbound, reply too late), not that it was bad. */
  private static final java.util.List<String> LIFECYCLE_REJECTS =
      java.util.List.of("no such manager here", "no such channel here", "unexpected reply");

  /** Rejected messages other than those a restart or partition legitimately causes: malformed or misdirected ones. */
  public long rejectedBadMessages() {
    long lifecycle = nodes.values().stream()
        .mapToLong(t -> LIFECYCLE_REJECTS.stream().mapToLong(t::rejectedMessages).sum())
        .sum();
    return rejectedMessages() - lifecycle;
  }

  @Override
  public void close() {
    try {
      // Closing is mostly waiting for the broker's goodbye; do it for all nodes at once.
      new ArrayList<>(nodes.values()).parallelStream().forEach(MqttTransport::close);
      nodes.clear();
    } finally {
      if (broker != null) {
        broker.close();
      }
    }
  }
}
