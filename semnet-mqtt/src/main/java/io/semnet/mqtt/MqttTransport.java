package io.semnet.mqtt;

import io.semnet.core.stats.StatsSource;
import io.semnet.core.stats.StatsVisitor;
import io.semnet.mqtt.internal.Envelope;
import io.semnet.mqtt.internal.NoDelaySockets;
import io.semnet.mqtt.internal.RejectLog;
import io.semnet.mqtt.internal.Topics;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.ErrorReply;
import io.semnet.resolver.transport.ClientChannel;
import io.semnet.resolver.transport.LivenessListener;
import io.semnet.resolver.transport.ControlTransport;
import io.semnet.resolver.transport.PushHandler;
import io.semnet.resolver.transport.RequestHandler;
import io.semnet.resolver.transport.ServerBinding;
import io.semnet.resolver.transport.TransportException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control protocol over an MQTT broker (MQTT 5, Eclipse Paho client, QoS 1). One instance is
 * one node's connection to the broker: it can host service managers ({@link #bind}) and open
 * channels to managers hosted elsewhere ({@link #connect}). Topic layout, envelope, versioning and
 * the TLS/ACL set-up are described in semnet-mqtt/README.md.
 *
 * <p>Guarantees, on top of the {@link ControlTransport} contract:
 * <ul>
 *   <li>The client id a manager sees is the last level of the topic the request arrived on; with
 *       the documented TLS set-up ({@code use_identity_as_username}) and ACL only the holder of that
 *       client certificate can publish there, so the id is authenticated by the broker.
 *   <li>Managers announce themselves on a retained {@code state} topic and every node on a retained
 *       {@code alive} topic backed by a Last Will, so a request to a manager that is unbound, or
 *       whose node died, fails at once instead of waiting for its timeout.
 *   <li>The broker connection is re-established by itself with back-off; subscriptions and
 *       announcements are restored on every reconnect. Requests in flight when the connection (or
 *       the manager) goes away fail with {@link TransportException}; pushes sent while a client was
 *       cut off are lost (clients resynchronise with a {@code Renew}).
 *   <li>Everything sent on one connection goes out in order at QoS 1 (one sender thread, and a
 *       bounded in-flight window), and everything received from one manager for one client is
 *       delivered by one serial queue, so pushes to a client arrive in the order they were sent.
 *   <li>Inbound messages that are not a valid envelope of an accepted schema version are dropped,
 *       counted ({@link #rejectedMessages()}) and logged at a bounded rate; they never reach a
 *       handler. A rejected request whose id can be read (one in an unsupported version, or a
 *       push sent as a request) is answered with an {@link ErrorReply} giving the reason.
 * </ul>
 */
public final class MqttTransport implements ControlTransport, StatsSource {
  static final Logger log = LoggerFactory.getLogger(MqttTransport.class);
  static final int QOS = 1;

  final String uri;
  final String nodeId;
  final String prefix;
  final Topics topics;
  final Envelope codec;
  final int writeVersion;
  final MqttAsyncClient client;
  final MqttConnectionOptions options;
  final ExecutorService pool;
  final ScheduledExecutorService timer;
  final Sender sender;
  final RejectLog rejects;
  final RejectLog refusals;
  final long absentAfterNanos;
  final Duration maxRequestTimeout;
  final int maxQueuedRequests;
  final AtomicLong overloaded = new AtomicLong();

  final Map<String, Binding> bindings = new ConcurrentHashMap<>();
  final Map<String, Channel> channels = new ConcurrentHashMap<>(); // key: topic of the channel's inbox
  final Map<String, Presence.ManagerWatch> managers = new ConcurrentHashMap<>();
  final Map<String, Boolean> hostAlive = new ConcurrentHashMap<>();
  final Map<String, Integer> hostRefs = new ConcurrentHashMap<>();
  /** Liveness watchers ({@link #watchLiveness}) and the last state told to them per node. */
  final List<LivenessListener> liveness = new CopyOnWriteArrayList<>();
  final Map<String, Boolean> livenessTold = new ConcurrentHashMap<>();
  final Map<Long, PendingRequests.Pending> pending = new ConcurrentHashMap<>();
  final Map<String, Connection.SubState> subscriptions = new ConcurrentHashMap<>();
  final AtomicLong nextId = new AtomicLong(ThreadLocalRandom.current().nextLong(1L << 40));
  final AtomicLong reconnects = new AtomicLong();
  final AtomicLong received = new AtomicLong();
  final Object connectLock = new Object();
  volatile boolean connected;
  volatile boolean closed;
  volatile boolean suspended;
  volatile long backoffMillis;
  final long minBackoffMillis;
  final long maxBackoffMillis;
  final Connection connection = new Connection(this);
  final Presence presence = new Presence(this);
  final PendingRequests inFlight = new PendingRequests(this);
  final Inbound inbound = new Inbound(this);

  private MqttTransport(Builder b) {
    this.uri = b.brokerUri;
    this.nodeId = b.clientId;
    this.prefix = b.topicPrefix;
    this.topics = new Topics(prefix);
    this.codec = new Envelope(b.schemaVersion, b.minSchemaVersion, b.maxMessageBytes);
    this.writeVersion = b.writeVersion == 0 ? b.schemaVersion : b.writeVersion;
    if (!codec.accepts(writeVersion)) {
      throw new IllegalArgumentException("write version " + writeVersion + " is not an accepted version");
    }
    this.rejects = new RejectLog(log, TimeUnit.SECONDS.toNanos(10), "dropped MQTT message on");
    this.refusals = new RejectLog(log, TimeUnit.SECONDS.toNanos(10), "MQTT publish refused on");
    this.absentAfterNanos = b.presenceGrace.toNanos();
    this.maxRequestTimeout = b.requestTimeout;
    this.maxQueuedRequests = b.maxQueuedRequests;
    this.minBackoffMillis = b.reconnectMin.toMillis();
    this.maxBackoffMillis = b.reconnectMax.toMillis();
    this.backoffMillis = minBackoffMillis;
    AtomicInteger n = new AtomicInteger();
    String tag = nodeId;
    this.pool = Executors.newFixedThreadPool(b.threads, r -> daemon(r, "semnet-mqtt-" + tag + "-" + n.incrementAndGet()));
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "semnet-mqtt-" + tag + "-timer"));
    try {
      this.client = new MqttAsyncClient(uri, nodeId, new MemoryPersistence());
    } catch (MqttException e) {
      pool.shutdownNow();
      timer.shutdownNow();
      throw new IllegalArgumentException("cannot create MQTT client for " + uri + ": " + e.getMessage(), e);
    }
    this.options = new MqttConnectionOptions();
    // A fresh session on every connect: queued requests of a previous incarnation would be stale,
    // and everything that matters (subscriptions, announcements) is restored by us.
    options.setCleanStart(true);
    options.setAutomaticReconnect(false);
    options.setKeepAliveInterval((int) Math.max(1, b.keepAlive.toSeconds()));
    options.setConnectionTimeout((int) Math.max(1, b.connectTimeout.toSeconds()));
    options.setReceiveMaximum(b.inflight * 4);
    if (b.sslContext != null) {
      options.setSocketFactory(NoDelaySockets.tls(b.sslContext.getSocketFactory()));
      options.setHttpsHostnameVerificationEnabled(b.verifyHostname);
    } else {
      options.setSocketFactory(NoDelaySockets.plain());
    }
    MqttMessage will = new MqttMessage(codec.alive(false));
    will.setQos(QOS);
    will.setRetained(true);
    options.setWill(topics.alive(nodeId), will);
    this.sender = new Sender(this, b.inflight, b.maxQueued);
    client.setCallback(inbound);
    sender.start();
    timer.execute(connection::connectOnce);
  }

  static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** This node's MQTT client id (with TLS: its certificate's identity). */
  public String nodeId() {
    return nodeId;
  }

  /** True while connected to the broker. */
  public boolean isConnected() {
    return connected;
  }

  /** Waits until the broker connection is up (for start-up ordering in tests and tools). */
  public boolean awaitConnected(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (connectLock) {
      while (!connected && !closed) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(connectLock, left);
      }
      return connected;
    }
  }

  /** Requests refused with {@code OVERLOADED} because their client's request queue was full. */
  public long overloadedRequests() {
    return overloaded.get();
  }

  /** Inbound messages dropped because they were malformed, of an unaccepted version or unexpected. */
  public long rejectedMessages() {
    return rejects.total();
  }

  /** Dropped inbound messages with one reason (e.g. {@code "unsupported schema version"}). */
  public long rejectedMessages(String reason) {
    return rejects.count(reason);
  }

  /** Outbound messages dropped because the broker was unreachable or the send queue was full. */
  public long droppedOutbound() {
    return sender.dropped.get();
  }

  /** Number of times the broker connection was re-established after a loss. */
  public long reconnects() {
    return reconnects.get();
  }

  /**
   * Reports {@code semnet.control.messages{direction}} (received; sent and acknowledged by the
   * broker), {@code semnet.control.drops{reason}} (rejected inbound, dropped outbound, overloaded
   * requests), reconnects and whether the broker connection is up.
   */
  @Override
  public void reportTo(StatsVisitor visitor) {
    TransportStats.report(this, visitor);
  }

  long sentMessages() {
    return sender.sent.get();
  }

  /**
   * Test hook: drops the broker connection without a DISCONNECT packet, as a crashed process or a
   * pulled cable would (the broker then publishes this node's Will), and releases the transport.
   */
  /**
   * Test hook: cuts this node off the broker as a network partition would (no DISCONNECT, so the
   * broker publishes the Will) and stays off until {@link #resumeForTest}.
   */
  void suspendForTest() {
    suspended = true;
    try {
      client.disconnectForcibly(0, 100, false);
    } catch (MqttException e) {
      log.debug("forced disconnect failed: {}", e.getMessage());
    }
    connection.onConnectionLost("suspended by test");
  }

  /** Test hook: ends {@link #suspendForTest}; the node reconnects as after any outage. */
  void resumeForTest() {
    suspended = false;
    connection.schedule(connection::connectOnce, 0);
  }

  /** Test hook: managers bound here. */
  java.util.Set<String> boundForTest() {
    return java.util.Set.copyOf(bindings.keySet());
  }

  /** Test hook: managers this node has channels to. */
  java.util.Set<String> watchedForTest() {
    return java.util.Set.copyOf(managers.keySet());
  }

  /** Test hook: true once this node has positively seen manager {@code managerId} up. */
  boolean seesUpForTest(String managerId) {
    Presence.ManagerWatch w = managers.get(managerId);
    if (w == null || presence.unreachableReason(managerId) != null) {
      return false;
    }
    synchronized (w) {
      return w.known && w.up;
    }
  }

  void crashForTest() {
    closed = true;
    sender.stop();
    try {
      client.disconnectForcibly(0, 100, false);
    } catch (MqttException e) {
      log.debug("forced disconnect failed: {}", e.getMessage());
    }
    try {
      client.close(true);
    } catch (MqttException e) {
      log.debug("closing MQTT client failed: {}", e.getMessage());
    }
    timer.shutdownNow();
    pool.shutdownNow();
  }

  // ------------------------------------------------------------------ ControlTransport

  @Override
  public ServerBinding bind(String managerId, RequestHandler handler) {
    Topics.checkId("managerId", managerId);
    Objects.requireNonNull(handler, "handler");
    checkOpen();
    Binding b = new Binding(this, managerId, handler);
    if (bindings.putIfAbsent(managerId, b) != null) {
      throw new IllegalStateException("manager id '" + managerId + "' is already bound");
    }
    connection.subscribe(topics.requests(managerId));
    // Announce only once the request subscription is active, so a client that sees "up" is heard.
    connection.subscriptionReady(topics.requests(managerId)).thenRun(() -> {
      if (bindings.get(managerId) == b) {
        sender.send(topics.state(managerId), codec.state(true, nodeId), true);
      }
    });
    return b;
  }

  /**
   * Subscribes to every node's retained {@code alive} topic (backed by its last will): the listener
   * is told each node's state once at subscription (what the broker retained) and on every change,
   * a node dying without a goodbye as soon as the broker notices its connection gone (at once on a
   * reset socket, else after 1.5 × the node's MQTT keep-alive). The ACL lets everybody read them.
   */
  @Override
  public AutoCloseable watchLiveness(LivenessListener listener) {
    Objects.requireNonNull(listener, "listener");
    checkOpen();
    liveness.add(listener);
    connection.subscribe(topics.alive("+"));
    return () -> {
      if (liveness.remove(listener)) {
        connection.unsubscribe(topics.alive("+"));
      }
    };
  }

  @Override
  public ClientChannel connect(String managerId, String clientId, PushHandler pushHandler) {
    Topics.checkId("managerId", managerId);
    Topics.checkId("clientId", clientId);
    Objects.requireNonNull(pushHandler, "pushHandler");
    checkOpen();
    Channel c = new Channel(this, managerId, clientId, pushHandler);
    Channel old = channels.get(c.inbox);
    if (old != null) {
      // One inbox per (manager, client): a second channel replaces the first.
      old.close();
    }
    channels.put(c.inbox, c);
    managers.compute(managerId, (k, w) -> {
      if (w == null) {
        w = new Presence.ManagerWatch(managerId);
      }
      w.refs++;
      return w;
    });
    connection.subscribe(topics.state(managerId));
    connection.subscribe(c.inbox);
    presence.armPresenceGrace(managerId);
    return c;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    for (Binding b : new ArrayList<>(bindings.values())) {
      b.close();
    }
    for (Channel c : new ArrayList<>(channels.values())) {
      c.close();
    }
    if (connected) {
      // Say goodbye explicitly: the Will is only sent on an unclean disconnect.
      sender.send(topics.alive(nodeId), codec.alive(false), true);
    }
    sender.drain(Duration.ofSeconds(2));
    closed = true;
    synchronized (connectLock) {
      connectLock.notifyAll();
    }
    inFlight.failAllPending("transport closed");
    sender.stop();
    try {
      if (client.isConnected()) {
        client.disconnect(100).waitForCompletion(1000);
      }
    } catch (MqttException e) {
      log.debug("disconnect from {} failed: {}", uri, e.getMessage());
    }
    try {
      client.close(true);
    } catch (MqttException e) {
      log.debug("closing MQTT client failed: {}", e.getMessage());
    }
    timer.shutdownNow();
    pool.shutdownNow();
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("transport closed");
    }
  }

  // ------------------------------------------------------------------ builder

  /** Configures an {@link MqttTransport}. Only {@link #brokerUri} and {@link #clientId} are required. */
  public static final class Builder {
    private String brokerUri;
    private String clientId;
    private SSLContext sslContext;
    private boolean verifyHostname = true;
    private String topicPrefix = "semnet";
    private int threads = 2;
    private int inflight = 16;
    private int maxQueued = 65_536;
    private int maxQueuedRequests = 4_096;
    private int maxMessageBytes = 1 << 20;
    private Duration keepAlive = Duration.ofSeconds(10);
    private Duration connectTimeout = Duration.ofSeconds(5);
    private Duration reconnectMin = Duration.ofMillis(100);
    private Duration reconnectMax = Duration.ofSeconds(5);
    private Duration presenceGrace = Duration.ofMillis(300);
    private Duration requestTimeout = Duration.ofSeconds(30);
    private int schemaVersion = ControlMessage.SCHEMA_VERSION;
    private int minSchemaVersion = ControlMessage.MIN_ACCEPTED_SCHEMA_VERSION;
    private int writeVersion;

    private Builder() {}

    /** {@code tcp://host:port} or, with {@link #tls}, {@code ssl://host:port}. */
    public Builder brokerUri(String uri) {
      URI u = URI.create(Objects.requireNonNull(uri, "uri"));
      if (!"tcp".equals(u.getScheme()) && !"ssl".equals(u.getScheme())) {
        throw new IllegalArgumentException("broker URI must be tcp:// or ssl://");
      }
      this.brokerUri = uri;
      return this;
    }

    /**
     * This node's identity on the broker (MQTT client id). With TLS it must equal the identity of the
     * client certificate, which the broker uses as user name for the ACL.
     */
    public Builder clientId(String id) {
      this.clientId = Topics.checkId("clientId", id);
      return this;
    }

    /** Connects over TLS with this context (trust store: the broker's CA; key store: this node's certificate). */
    public Builder tls(SSLContext context) {
      this.sslContext = Objects.requireNonNull(context, "context");
      return this;
    }

    /** Whether the broker certificate must name the host of the URI (default true). */
    public Builder verifyHostname(boolean verify) {
      this.verifyHostname = verify;
      return this;
    }

    /** First topic level of every topic (default {@code semnet}); one level, no wildcards. */
    public Builder topicPrefix(String prefix) {
      this.topicPrefix = Topics.checkId("topicPrefix", prefix);
      return this;
    }

    /** Threads that run handlers and deliver replies and pushes (default 2). */
    public Builder threads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("threads must be >= 1");
      }
      this.threads = threads;
      return this;
    }

    /** Unacknowledged QoS 1 publishes at a time (default 16; capped at the broker's announced Receive Maximum). */
    public Builder inflight(int inflight) {
      if (inflight < 1 || inflight > 65_535) {
        throw new IllegalArgumentException("inflight must be 1..65535");
      }
      this.inflight = inflight;
      return this;
    }

    /** Messages waiting to be published before sends are refused (default 65,536). */
    public Builder maxQueued(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxQueued must be >= 1");
      }
      this.maxQueued = max;
      return this;
    }

    /**
     * Requests of one client waiting for a handler thread, per bound manager (default 4,096: a cluster at the root forwards all its workers' misses); each
     * client's requests run one at a time, so a flooding client fills only its own queue. A request
     * past it is answered at once with an {@code ErrorReply} {@code OVERLOADED} and counted
     * ({@link MqttTransport#overloadedRequests()}).
     */
    public Builder maxQueuedRequests(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxQueuedRequests must be >= 1");
      }
      this.maxQueuedRequests = max;
      return this;
    }

    /** Inbound messages larger than this are dropped unread (default 1 MiB). */
    public Builder maxMessageBytes(int max) {
      if (max < 64) {
        throw new IllegalArgumentException("maxMessageBytes must be >= 64");
      }
      this.maxMessageBytes = max;
      return this;
    }

    public Builder keepAlive(Duration d) {
      this.keepAlive = positive(d, "keepAlive");
      return this;
    }

    public Builder connectTimeout(Duration d) {
      this.connectTimeout = positive(d, "connectTimeout");
      return this;
    }

    /** Back-off between reconnect attempts, doubling from min to max (default 100 ms .. 5 s). */
    public Builder reconnectDelay(Duration min, Duration max) {
      this.reconnectMin = positive(min, "min");
      this.reconnectMax = positive(max, "max");
      if (max.compareTo(min) < 0) {
        throw new IllegalArgumentException("max < min");
      }
      return this;
    }

    /**
     * Upper bound on how long any request waits for its reply, whatever timeout the caller passes
     * (default 30 s): a pending request holds memory until it is answered or timed out.
     */
    public Builder requestTimeout(Duration d) {
      this.requestTimeout = positive(d, "requestTimeout");
      return this;
    }

    /** How long after subscribing a missing manager state means "not bound" (default 300 ms). */
    public Builder presenceGrace(Duration d) {
      this.presenceGrace = positive(d, "presenceGrace");
      return this;
    }

    /**
     * Writes messages in this (accepted) schema version instead of the current one: during a rolling
     * upgrade that updates clients before their managers, upgraded clients write the previous version
     * until every manager is upgraded. Managers always answer in the version of the request.
     */
    public Builder writeVersion(int version) {
      this.writeVersion = version;
      return this;
    }

    /** Test hook: pretend this node's code is at {@code current}, reading {@code min..current}. */
    Builder schemaVersions(int current, int min) {
      this.schemaVersion = current;
      this.minSchemaVersion = min;
      return this;
    }

    private static Duration positive(Duration d, String what) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive");
      }
      return d;
    }

    /** Creates the transport and starts connecting in the background (see {@link MqttTransport#awaitConnected}). */
    public MqttTransport build() {
      if (brokerUri == null || clientId == null) {
        throw new IllegalStateException("brokerUri and clientId are required");
      }
      if (brokerUri.startsWith("ssl:") != (sslContext != null)) {
        throw new IllegalStateException("use an ssl:// URI together with tls(...), and tcp:// without");
      }
      return new MqttTransport(this);
    }
  }
}
