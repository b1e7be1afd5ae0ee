package io.semnet.resolver.transport.mqtt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semnet.resolver.internal.Json;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.ErrorReply;
import io.semnet.resolver.protocol.MalformedMessageException;
import io.semnet.resolver.protocol.WireCodec;
import io.semnet.resolver.transport.ClientChannel;
import io.semnet.resolver.transport.ControlTransport;
import io.semnet.resolver.transport.PushHandler;
import io.semnet.resolver.transport.RequestHandler;
import io.semnet.resolver.transport.ServerBinding;
import io.semnet.resolver.transport.TransportException;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import javax.net.SocketFactory;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control protocol over an MQTT 5 broker. Each identity (a manager id, or a client id) has its
 * own MQTT connection, whose MQTT client id is the identity; a cluster manager, which is both a
 * server (bound as its id) and a client of the root (connected as its id), uses one connection.
 *
 * <p>Topics ({@code M} = manager id, {@code C} = client id):
 * <pre>
 *   semnet/M/req/C    requests of C to M          (written by C, read by M)
 *   semnet/M/rep/C    replies of M to C           (written by M, read by C)
 *   semnet/M/push/C   pushes of M to C            (written by M, read by C)
 * </pre>
 * A manager learns the requester's id from the topic; with TLS client certificates
 * ({@code use_identity_as_username}) and the ACL patterns in the README, only C can write
 * {@code semnet/+/req/C} and only M can write {@code semnet/M/rep/+} and {@code semnet/M/push/+},
 * so topic and identity agree. Payloads are {@link WireCodec} JSON; a request carries {@code "id"},
 * its reply {@code "re"}. QoS 1. Malformed payloads are logged and dropped ({@link #malformed()}).
 *
 * <p>While an identity's connection is down, its requests fail at once with
 * {@link TransportException} and its pushes are dropped; it reconnects by itself and
 * re-subscribes. Thread-safe.
 */
public final class MqttTransport implements ControlTransport {
  private static final Logger log = LoggerFactory.getLogger(MqttTransport.class);

  private final String serverUri;
  private final Function<String, SocketFactory> socketFactories;
  private final Duration reconnectDelay;
  private final Map<String, Conn> conns = new ConcurrentHashMap<>();
  private final ExecutorService dispatch;
  private final ScheduledExecutorService scheduler;
  private final AtomicLong ids = new AtomicLong();
  private final AtomicLong malformed = new AtomicLong();
  private volatile boolean closed;

  private MqttTransport(Builder b) {
    this.serverUri = Objects.requireNonNull(b.serverUri, "serverUri");
    this.socketFactories = b.socketFactories;
    this.reconnectDelay = b.reconnectDelay;
    this.dispatch = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "semnet-mqtt-dispatch");
      t.setDaemon(true);
      return t;
    });
    this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "semnet-mqtt-reconnect");
      t.setDaemon(true);
      return t;
    });
    long ms = reconnectDelay.toMillis();
    scheduler.scheduleWithFixedDelay(this::reconnectAll, ms, ms, TimeUnit.MILLISECONDS);
  }

  public static Builder builder(String serverUri) {
    return new Builder(serverUri);
  }

  /** Messages dropped because they could not be decoded. */
  public long malformed() {
    return malformed.get();
  }

  /**
   * Takes identity {@code id} off the network ({@code false}: disconnect and stay disconnected) or
   * lets it reconnect ({@code true}). For fault injection in tests and for orderly maintenance.
   */
  public void setOnline(String id, boolean online) {
    Conn c = conns.get(id);
    if (c == null) {
      return;
    }
    c.suspended = !online;
    if (!online) {
      c.disconnect();
    } else {
      c.connectAsync();
    }
  }

  /** True if identity {@code id} is connected to the broker with all its subscriptions in place. */
  public boolean isConnected(String id) {
    Conn c = conns.get(id);
    return c != null && c.ready && c.client.isConnected();
  }

  private Conn conn(String id) {
    checkId(id);
    return conns.computeIfAbsent(id, Conn::new);
  }

  private static void checkId(String id) {
    if (id == null || id.isEmpty() || id.contains("/") || id.contains("+") || id.contains("#")) {
      throw new IllegalArgumentException("'" + id + "' cannot be used in MQTT topics");
    }
  }

  @Override
  public ServerBinding bind(String managerId, RequestHandler handler) {
    Conn c = conn(managerId);
    synchronized (c) {
      if (c.server != null) {
        throw new IllegalStateException("manager id '" + managerId + "' is already bound");
      }
      c.server = handler;
    }
    c.subscribe("semnet/" + managerId + "/req/+");
    c.ensureConnected();
    return new ServerBinding() {
      @Override
      public String managerId() {
        return managerId;
      }

      @Override
      public boolean push(String clientId, ControlMessage message) {
        checkId(clientId);
        return c.publish("semnet/" + managerId + "/push/" + clientId, WireCodec.toJson(message));
      }

      @Override
      public void close() {
        synchronized (c) {
          c.server = null;
        }
        c.unsubscribe("semnet/" + managerId + "/req/+");
        c.releaseIfUnused();
      }
    };
  }

  @Override
  public ClientChannel connect(String managerId, String clientId, PushHandler pushHandler) {
    checkId(managerId);
    Conn c = conn(clientId);
    Upstream u = new Upstream(managerId, pushHandler);
    c.upstreams.put(managerId, u);
    c.subscribe("semnet/" + managerId + "/rep/" + clientId);
    c.subscribe("semnet/" + managerId + "/push/" + clientId);
    c.ensureConnected();
    return new ClientChannel() {
      @Override
      public String clientId() {
        return clientId;
      }

      @Override
      public CompletionStage<ControlMessage> request(ControlMessage request, Duration timeout) {
        if (!c.client.isConnected()) {
          return CompletableFuture.failedFuture(new TransportException("not connected to the MQTT broker"));
        }
        long id = ids.incrementAndGet();
        CompletableFuture<ControlMessage> reply = new CompletableFuture<>();
        u.pending.put(id, reply);
        ObjectNode o = WireCodec.toJson(request);
        o.put("id", id);
        if (!c.publish("semnet/" + managerId + "/req/" + clientId, o)) {
          u.pending.remove(id);
          return CompletableFuture.failedFuture(new TransportException("publish to the MQTT broker failed"));
        }
        return reply.orTimeout(timeout.toNanos(), TimeUnit.NANOSECONDS).exceptionallyCompose(e -> {
          u.pending.remove(id);
          Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
          return CompletableFuture.failedFuture(cause instanceof TimeoutException
              ? new TransportException("no reply from '" + managerId + "' within " + timeout) : cause);
        });
      }

      @Override
      public void close() {
        c.upstreams.remove(managerId, u);
        c.unsubscribe("semnet/" + managerId + "/rep/" + clientId);
        c.unsubscribe("semnet/" + managerId + "/push/" + clientId);
        for (CompletableFuture<ControlMessage> f : u.pending.values()) {
          f.completeExceptionally(new TransportException("channel closed"));
        }
        c.releaseIfUnused();
      }
    };
  }

  private void reconnectAll() {
    for (Conn c : conns.values()) {
      if (!closed && !c.suspended && !c.client.isConnected()) {
        c.connectAsync();
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    scheduler.shutdownNow();
    for (Conn c : conns.values()) {
      c.shutdown();
    }
    conns.clear();
    dispatch.shutdownNow();
  }

  private final class Upstream {
    final String managerId;
    final PushHandler pushes;
    final Map<Long, CompletableFuture<ControlMessage>> pending = new ConcurrentHashMap<>();

    Upstream(String managerId, PushHandler pushes) {
      this.managerId = managerId;
      this.pushes = pushes;
    }
  }

  /** One identity's connection. */
  private final class Conn implements MqttCallback {
    final String id;
    final MqttAsyncClient client;
    final Set<String> topics = ConcurrentHashMap.newKeySet();
    final Map<String, Upstream> upstreams = new ConcurrentHashMap<>();
    volatile RequestHandler server;
    volatile boolean suspended;
    volatile boolean ready;
    private volatile boolean connecting;

    Conn(String id) {
      this.id = id;
      try {
        this.client = new MqttAsyncClient(serverUri, id, new MemoryPersistence());
      } catch (MqttException e) {
        throw new IllegalArgumentException("bad MQTT server URI " + serverUri + ": " + e.getMessage(), e);
      }
      client.setCallback(this);
    }

    void ensureConnected() {
      if (client.isConnected()) {
        return;
      }
      try {
        IMqttToken t = connectAsync();
        if (t != null) {
          t.waitForCompletion(5000);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!ready && client.isConnected() && System.nanoTime() < deadline) {
          Thread.sleep(2);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (MqttException | RuntimeException e) {
        log.warn("mqtt {}: cannot connect to {} yet ({}); retrying in the background", id, serverUri, e.getMessage());
      }
    }

    synchronized IMqttToken connectAsync() {
      if (closed || suspended || client.isConnected() || connecting) {
        return null;
      }
      MqttConnectionOptions o = new MqttConnectionOptions();
      o.setCleanStart(true);
      o.setAutomaticReconnect(false);
      o.setConnectionTimeout(5);
      o.setKeepAliveInterval(10);
      if (socketFactories != null) {
        SocketFactory f = socketFactories.apply(id);
        if (f != null) {
          o.setSocketFactory(f);
        }
      }
      try {
        connecting = true;
        return client.connect(o, null, new org.eclipse.paho.mqttv5.client.MqttActionListener() {
          @Override
          public void onSuccess(IMqttToken token) {
            connecting = false;
          }

          @Override
          public void onFailure(IMqttToken token, Throwable e) {
            connecting = false;
            log.debug("mqtt {}: connect failed: {}", id, e.toString());
          }
        });
      } catch (MqttException e) {
        connecting = false;
        log.debug("mqtt {}: connect failed: {}", id, e.toString());
        return null;
      }
    }

    void subscribe(String topic) {
      topics.add(topic);
      if (client.isConnected()) {
        try {
          client.subscribe(topic, 1).waitForCompletion(5000);
        } catch (MqttException e) {
          log.warn("mqtt {}: subscribe {} failed: {}", id, topic, e.getMessage());
        }
      }
    }

    void unsubscribe(String topic) {
      topics.remove(topic);
      if (client.isConnected()) {
        try {
          client.unsubscribe(topic);
        } catch (MqttException e) {
          log.debug("mqtt {}: unsubscribe {} failed: {}", id, topic, e.getMessage());
        }
      }
    }

    boolean publish(String topic, ObjectNode payload) {
      if (!client.isConnected()) {
        return false;
      }
      try {
        client.publish(topic, Json.MAPPER.writeValueAsBytes(payload), 1, false);
        return true;
      } catch (MqttException | IOException e) {
        log.debug("mqtt {}: publish to {} failed: {}", id, topic, e.toString());
        return false;
      }
    }

    void disconnect() {
      ready = false;
      try {
        if (client.isConnected()) {
          client.disconnectForcibly(0, 1000, false);
        }
      } catch (MqttException e) {
        log.debug("mqtt {}: disconnect: {}", id, e.toString());
      }
      failPending("disconnected from the MQTT broker");
    }

    void failPending(String why) {
      for (Upstream u : upstreams.values()) {
        for (CompletableFuture<ControlMessage> f : u.pending.values()) {
          f.completeExceptionally(new TransportException(why));
        }
        u.pending.clear();
      }
    }

    void releaseIfUnused() {
      if (server == null && upstreams.isEmpty() && conns.remove(id, this)) {
        shutdown();
      }
    }

    void shutdown() {
      disconnect();
      try {
        client.close(true);
      } catch (MqttException e) {
        log.debug("mqtt {}: close: {}", id, e.toString());
      }
    }

    @Override
    public void connectComplete(boolean reconnect, String uri) {
      // Subscribing waits for the broker's acknowledgement, which must not happen on Paho's
      // callback thread; the connection counts as ready only once every subscription is in place.
      try {
        scheduler.execute(() -> {
          for (String t : topics) {
            try {
              client.subscribe(t, 1).waitForCompletion(5000);
            } catch (MqttException e) {
              log.warn("mqtt {}: subscribe {} failed: {}", id, t, e.getMessage());
            }
          }
          ready = client.isConnected();
        });
      } catch (RuntimeException e) {
        // transport closing
      }
    }

    @Override
    public void disconnected(MqttDisconnectResponse response) {
      ready = false;
      log.debug("mqtt {}: disconnected: {}", id, response);
      failPending("disconnected from the MQTT broker");
    }

    @Override
    public void mqttErrorOccurred(MqttException e) {
      log.debug("mqtt {}: error {}", id, e.toString());
    }

    @Override
    public void messageArrived(String topic, MqttMessage message) {
      byte[] payload = message.getPayload();
      try {
        dispatch.execute(() -> handle(topic, payload));
      } catch (RuntimeException e) {
        // transport closing
      }
    }

    private void handle(String topic, byte[] payload) {
      String[] p = topic.split("/", -1);
      if (p.length != 4 || !p[0].equals("semnet")) {
        drop(topic, "unexpected topic");
        return;
      }
      String manager = p[1];
      String kind = p[2];
      String client = p[3];
      JsonNode n;
      ControlMessage m;
      try {
        if (payload.length > WireCodec.MAX_MESSAGE_BYTES) {
          throw new MalformedMessageException("message too large");
        }
        n = Json.MAPPER.readTree(payload);
        m = WireCodec.fromJson(n);
      } catch (IOException | RuntimeException e) {
        drop(topic, e.getMessage());
        return;
      }
      switch (kind) {
        case "req": {
          RequestHandler h = server;
          if (h == null || !manager.equals(id) || !n.has("id") || !n.get("id").canConvertToLong()) {
            drop(topic, "request without id or for a manager not bound here");
            return;
          }
          long rid = n.get("id").asLong();
          CompletionStage<ControlMessage> r;
          try {
            r = h.onRequest(client, m);
          } catch (RuntimeException e) {
            r = CompletableFuture.failedFuture(e);
          }
          r.whenComplete((reply, e) -> {
            ControlMessage out = e != null ? new ErrorReply(String.valueOf(
                (e instanceof CompletionException && e.getCause() != null ? e.getCause() : e).getMessage())) : reply;
            ObjectNode o = WireCodec.toJson(out);
            o.put("re", rid);
            publish("semnet/" + manager + "/rep/" + client, o);
          });
          return;
        }
        case "rep": {
          Upstream u = upstreams.get(manager);
          if (u == null || !client.equals(id) || !n.has("re")) {
            drop(topic, "reply nobody waits for");
            return;
          }
          CompletableFuture<ControlMessage> f = u.pending.remove(n.get("re").asLong());
          if (f != null) {
            f.complete(m);
          }
          return;
        }
        case "push": {
          Upstream u = upstreams.get(manager);
          if (u == null || !client.equals(id)) {
            drop(topic, "push for a channel not open here");
            return;
          }
          try {
            u.pushes.onPush(m);
          } catch (RuntimeException e) {
            log.warn("mqtt {}: push handler failed on {}", id, m.type(), e);
          }
          return;
        }
        default:
          drop(topic, "unknown topic kind '" + kind + "'");
      }
    }

    private void drop(String topic, String why) {
      malformed.incrementAndGet();
      log.warn("mqtt {}: dropped message on {}: {}", id, topic, why);
    }

    @Override
    public void deliveryComplete(IMqttToken token) {}

    @Override
    public void authPacketArrived(int reasonCode, MqttProperties properties) {}
  }

  /** Configures an {@link MqttTransport}. */
  public static final class Builder {
    private final String serverUri;
    private Function<String, SocketFactory> socketFactories;
    private Duration reconnectDelay = Duration.ofMillis(500);

    private Builder(String serverUri) {
      this.serverUri = serverUri;
    }

    /**
     * The socket factory for each identity's connection, e.g. an {@code SSLSocketFactory} holding
     * that node's client certificate (use an {@code ssl://} URI). Null for plain TCP.
     */
    public Builder socketFactories(Function<String, SocketFactory> f) {
      this.socketFactories = f;
      return this;
    }

    /** How often a lost connection is retried (default 500 ms). */
    public Builder reconnectDelay(Duration d) {
      this.reconnectDelay = Objects.requireNonNull(d);
      return this;
    }

    public MqttTransport build() {
      return new MqttTransport(this);
    }
  }
}
