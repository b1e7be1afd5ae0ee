package io.semnet.bench.migration;

import io.semnet.resolver.transport.ClientChannel;
import io.semnet.resolver.transport.ControlTransport;
import io.semnet.resolver.transport.PushHandler;
import io.semnet.resolver.transport.RequestHandler;
import io.semnet.resolver.transport.ServerBinding;
import io.semnet.mqtt.MqttTransport;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Many SemNet nodes of one process over a private mosquitto on a free loopback port, seen as one
 * {@link ControlTransport}: every identity (manager id or client id) gets its own
 * {@link MqttTransport}, i.e. its own broker connection, as separate processes would have; a
 * cluster manager's binding and its channel to the root share one. Owns the broker (started from a
 * generated config, stopped and its directory removed on {@link #close}). Needs
 * {@code /usr/sbin/mosquitto}.
 */
public final class MqttNodeSet implements ControlTransport {
  /** Unacknowledged publishes per connection, on both sides (see {@link #start}). */
  static final int WINDOW = 1024;

  private final Path dir;
  private final Process broker;
  private final String uri;
  private final Map<String, MqttTransport> nodes = new ConcurrentHashMap<>();

  private MqttNodeSet(Path dir, Process broker, int port) {
    this.dir = dir;
    this.broker = broker;
    this.uri = "tcp://127.0.0.1:" + port;
  }

  /** Starts a broker on a free loopback port. */
  public static MqttNodeSet start() throws IOException, InterruptedException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Path dir = Files.createTempDirectory("semnet-migration-mosquitto-");
    Path conf = dir.resolve("mosquitto.conf");
    // max_queued_messages: a thousand-odd pushes may be in flight to one slow client.
    // max_inflight_messages: announced as the Receive Maximum, it caps every node's window (the
    // cluster manager pushes one change to a thousand workers at once; at mosquitto's default of
    // 20 the publishes wait for one PUBACK round trip per 20).
    // max_connections -1: no cap but the file descriptors mosquitto inherits from this JVM (which
    // raised its soft limit to the hard one); 1,000 nodes need 1,000-odd.
    Files.writeString(conf, "listener " + port + " 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n"
        + "set_tcp_nodelay true\nmax_queued_messages 10000\nmax_inflight_messages " + WINDOW + "\nmax_connections -1\n");
    Process p = new ProcessBuilder("/usr/sbin/mosquitto", "-c", conf.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("out.log").toFile()).start();
    MqttNodeSet set = new MqttNodeSet(dir, p, port);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
        return set;
      } catch (IOException e) {
        if (System.nanoTime() > deadline || !p.isAlive()) {
          set.close();
          throw new IOException("mosquitto did not start (see " + dir.resolve("out.log") + ")");
        }
        Thread.sleep(20);
      }
    }
  }

  private MqttTransport node(String id) {
    return nodes.computeIfAbsent(id, k -> {
      MqttTransport t = MqttTransport.builder().brokerUri(uri).clientId(k).inflight(WINDOW).build();
      try {
        if (!t.awaitConnected(Duration.ofSeconds(10))) {
          t.close();
          throw new IllegalStateException("node " + k + " did not connect to " + uri);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      return t;
    });
  }

  /**
   * Opens the broker connections of {@code ids} ahead, {@code parallel} at a time (a thousand
   * one after the other take minutes on a busy 2-core machine); later binds and connects of these
   * identities reuse them.
   */
  public void connectAhead(List<String> ids, int parallel) throws InterruptedException {
    ExecutorService pool = Executors.newFixedThreadPool(parallel);
    try {
      List<Future<MqttTransport>> done = new ArrayList<>();
      for (String id : ids) {
        done.add(pool.submit(() -> node(id)));
      }
      for (Future<MqttTransport> f : done) {
        try {
          f.get();
        } catch (ExecutionException e) {
          throw new IllegalStateException("connecting ahead failed", e.getCause());
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Override
  public ServerBinding bind(String managerId, RequestHandler handler) {
    return node(managerId).bind(managerId, handler);
  }

  @Override
  public ClientChannel connect(String managerId, String clientId, PushHandler pushHandler) {
    return node(clientId).connect(managerId, clientId, pushHandler);
  }

  /** Broker connections open (one per node identity). */
  public int connections() {
    return nodes.size();
  }

  /** Inbound messages the nodes rejected as malformed or unexpected (should stay 0). */
  public long rejectedMessages() {
    return nodes.values().stream().mapToLong(MqttTransport::rejectedMessages).sum();
  }

  /** Outbound messages the nodes dropped (broker unreachable or queue full; should stay 0). */
  public long droppedOutbound() {
    return nodes.values().stream().mapToLong(MqttTransport::droppedOutbound).sum();
  }

  @Override
  public void close() {
    nodes.values().forEach(MqttTransport::close);
    nodes.clear();
    broker.destroy();
    try {
      if (!broker.waitFor(5, TimeUnit.SECONDS)) {
        broker.destroyForcibly();
        broker.waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      broker.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    try (Stream<Path> w = Files.walk(dir)) {
      w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort: a temp directory left behind is harmless
    }
  }
}
