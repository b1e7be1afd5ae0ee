package io.semnet.mqtt;


import io.semnet.mqtt.internal.Envelope;
import io.semnet.mqtt.internal.NoDelaySockets;
import io.semnet.mqtt.internal.RejectLog;
import io.semnet.mqtt.internal.Topics;

import io.semnet.resolver.internal.OrderedExecutor;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.ErrorReply;
import io.semnet.resolver.transport.ClientChannel;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
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
 * The control protocol over an MQTT broker (MQTT 5, Eclipse Paho client, QoS 1). One instance is
 * one node's connection to the broker: it can host service managers ({@link #bind}) and open
 * channels to managers hosted elsewhere ({@link #connect}). Topic layout, envelope, versioning and
 * the TLS/ACL set-up are described in semnet-resolver/MQTT.md.
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
public final class MqttTransport implements ControlTransport {
  private static final Logger log = LoggerFactory.getLogger(MqttTransport.class);
  private static final int QOS = 1;

  private final String uri;
  private final String nodeId;
  private final String prefix;
  private final Topics topics;
  private final Envelope codec;
  private final int writeVersion;
  private final MqttAsyncClient client;
  private final MqttConnectionOptions options;
  private final ExecutorService pool;
  private final ScheduledExecutorService timer;
  private final Sender sender;
  private final RejectLog rejects;
  private final RejectLog refusals;
  private final long absentAfterNanos;
  private final Duration maxRequestTimeout;

  private final Map<String, Binding> bindings = new ConcurrentHashMap<>();
  private final Map<String, Channel> channels = new ConcurrentHashMap<>(); // key: topic of the channel's inbox
  private final Map<String, ManagerWatch> managers = new ConcurrentHashMap<>();
  private final Map<String, Boolean> hostAlive = new ConcurrentHashMap<>();
  private final Map<String, Integer> hostRefs = new ConcurrentHashMap<>();
  private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
  private final Map<String, SubState> subscriptions = new ConcurrentHashMap<>();
  private final AtomicLong nextId = new AtomicLong(ThreadLocalRandom.current().nextLong(1L << 40));
  private final AtomicLong reconnects = new AtomicLong();
  private final Object connectLock = new Object();
  private volatile boolean connected;
  private volatile boolean closed;
  private volatile boolean suspended;
  private volatile long backoffMillis;
  private final long minBackoffMillis;
  private final long maxBackoffMillis;

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
    this.sender = new Sender(b.inflight, b.maxQueued);
    client.setCallback(new Callback());
    sender.start();
    timer.execute(this::connectOnce);
  }

  private static Thread daemon(Runnable r, String name) {
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
    onConnectionLost("suspended by test");
  }

  /** Test hook: ends {@link #suspendForTest}; the node reconnects as after any outage. */
  void resumeForTest() {
    suspended = false;
    schedule(this::connectOnce, 0);
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
    ManagerWatch w = managers.get(managerId);
    if (w == null || unreachableReason(managerId) != null) {
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
    Binding b = new Binding(managerId, handler);
    if (bindings.putIfAbsent(managerId, b) != null) {
      throw new IllegalStateException("manager id '" + managerId + "' is already bound");
    }
    subscribe(topics.requests(managerId));
    // Announce only once the request subscription is active, so a client that sees "up" is heard.
    subscriptionReady(topics.requests(managerId)).thenRun(() -> {
      if (bindings.get(managerId) == b) {
        sender.send(topics.state(managerId), codec.state(true, nodeId), true);
      }
    });
    return b;
  }

  @Override
  public ClientChannel connect(String managerId, String clientId, PushHandler pushHandler) {
    Topics.checkId("managerId", managerId);
    Topics.checkId("clientId", clientId);
    Objects.requireNonNull(pushHandler, "pushHandler");
    checkOpen();
    Channel c = new Channel(managerId, clientId, pushHandler);
    Channel old = channels.get(c.inbox);
    if (old != null) {
      // One inbox per (manager, client): a second channel replaces the first.
      old.close();
    }
    channels.put(c.inbox, c);
    managers.compute(managerId, (k, w) -> {
      if (w == null) {
        w = new ManagerWatch(managerId);
      }
      w.refs++;
      return w;
    });
    subscribe(topics.state(managerId));
    subscribe(c.inbox);
    armPresenceGrace(managerId);
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
    failAllPending("transport closed");
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

  // ------------------------------------------------------------------ connection

  private void connectOnce() {
    if (closed || connected || suspended) {
      return;
    }
    try {
      client.connect(options).waitForCompletion(options.getConnectionTimeout() * 1000L + 1000);
    } catch (MqttException e) {
      long delay = backoffMillis;
      backoffMillis = Math.min(maxBackoffMillis, backoffMillis * 2);
      log.debug("connect to {} failed ({}); retrying in {} ms", uri, e.getMessage(), delay);
      schedule(this::connectOnce, delay);
      return;
    }
    onConnected();
  }

  private void onConnected() {
    backoffMillis = minBackoffMillis;
    // Retained state seen before the gap may be stale (a broker restart forgets it): re-learn it.
    for (ManagerWatch w : managers.values()) {
      synchronized (w) {
        w.known = false;
        w.up = false;
        // w.host stays: it is only a key for the alive subscription, replaced by the next state.
      }
    }
    hostAlive.clear();
    List<String> filters;
    synchronized (subscriptions) {
      filters = new ArrayList<>(subscriptions.keySet());
      for (String f : filters) {
        SubState fresh = new SubState();
        fresh.refs = subscriptions.get(f).refs;
        subscriptions.put(f, fresh);
      }
    }
    connected = true;
    synchronized (connectLock) {
      connectLock.notifyAll();
    }
    for (String f : filters) {
      sendSubscribe(f);
    }
    sender.send(topics.alive(nodeId), codec.alive(true), true);
    for (Binding b : bindings.values()) {
      subscriptionReady(topics.requests(b.managerId)).thenRun(() -> {
        if (bindings.get(b.managerId) == b) {
          sender.send(topics.state(b.managerId), codec.state(true, nodeId), true);
        }
      });
    }
    for (String m : managers.keySet()) {
      armPresenceGrace(m);
    }
    log.info("{} connected to MQTT broker {}", nodeId, uri);
  }

  private void onConnectionLost(String why) {
    if (!connected) {
      return;
    }
    connected = false;
    reconnects.incrementAndGet();
    log.warn("{} lost MQTT broker {}: {}; reconnecting", nodeId, uri, why);
    failAllPending("connection to broker lost");
    if (!closed) {
      schedule(this::connectOnce, minBackoffMillis);
    }
  }

  private void schedule(Runnable r, long delayMillis) {
    try {
      timer.schedule(r, delayMillis, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // closing
    }
  }

  // ------------------------------------------------------------------ subscriptions

  private static final class SubState {
    final CompletableFuture<Void> ready = new CompletableFuture<>();
    int refs;
  }

  private void subscribe(String filter) {
    boolean fresh;
    synchronized (subscriptions) {
      SubState s = subscriptions.get(filter);
      fresh = s == null;
      if (fresh) {
        s = new SubState();
        subscriptions.put(filter, s);
      }
      s.refs++;
    }
    if (fresh && connected) {
      sendSubscribe(filter);
    }
  }

  private void unsubscribe(String filter) {
    boolean last = false;
    synchronized (subscriptions) {
      SubState s = subscriptions.get(filter);
      if (s != null && --s.refs <= 0) {
        subscriptions.remove(filter);
        last = true;
      }
    }
    if (last && connected) {
      try {
        client.unsubscribe(filter);
      } catch (MqttException e) {
        log.debug("unsubscribe {} failed: {}", filter, e.getMessage());
      }
    }
  }

  private CompletableFuture<Void> subscriptionReady(String filter) {
    SubState s = subscriptions.get(filter);
    return s == null ? CompletableFuture.failedFuture(new TransportException("not subscribed")) : s.ready;
  }

  private void sendSubscribe(String filter) {
    SubState s = subscriptions.get(filter);
    if (s == null) {
      return;
    }
    try {
      client.subscribe(filter, QOS, null, new MqttActionListener() {
        @Override
        public void onSuccess(IMqttToken token) {
          int[] codes = token.getReasonCodes();
          if (codes != null && codes.length > 0 && codes[0] >= 0x80) {
            log.warn("broker refused subscription to {} (reason code 0x{}): check the ACL", filter, Integer.toHexString(codes[0]));
            return;
          }
          s.ready.complete(null);
        }

        @Override
        public void onFailure(IMqttToken token, Throwable e) {
          log.warn("subscription to {} failed: {}", filter, e == null ? "?" : e.getMessage());
        }
      });
    } catch (MqttException e) {
      log.warn("subscription to {} failed: {}", filter, e.getMessage());
    }
  }

  // ------------------------------------------------------------------ presence

  /** What a client knows about a manager it has channels to. Guarded by its own monitor. */
  private static final class ManagerWatch {
    final String managerId;
    int refs;
    boolean known;
    boolean up;
    String host;
    ScheduledFuture<?> grace;

    ManagerWatch(String managerId) {
      this.managerId = managerId;
    }
  }

  /**
   * A broker sends retained state right after the subscription is acknowledged; if none came within
   * the grace period, nobody ever bound the manager (or the broker forgot it) and requests can fail
   * fast. Until then requests are sent and bounded by their timeout.
   */
  private void armPresenceGrace(String managerId) {
    ManagerWatch w = managers.get(managerId);
    if (w == null) {
      return;
    }
    subscriptionReady(topics.state(managerId)).thenRun(() -> {
      try {
        ScheduledFuture<?> f = timer.schedule(() -> {
          synchronized (w) {
            if (!w.known) {
              w.known = true;
              w.up = false;
            }
          }
        }, absentAfterNanos, TimeUnit.NANOSECONDS);
        synchronized (w) {
          if (w.grace != null) {
            w.grace.cancel(false);
          }
          w.grace = f;
        }
      } catch (RejectedExecutionException e) {
        // closing
      }
    });
  }

  /** Null if the manager may be reachable, else why it is not. */
  private String unreachableReason(String managerId) {
    if (!connected) {
      return "not connected to the MQTT broker";
    }
    ManagerWatch w = managers.get(managerId);
    if (w == null) {
      return null;
    }
    synchronized (w) {
      if (!w.known) {
        return null;
      }
      if (!w.up) {
        return "manager '" + managerId + "' is not bound";
      }
      if (w.host != null && Boolean.FALSE.equals(hostAlive.get(w.host))) {
        return "node '" + w.host + "' hosting manager '" + managerId + "' is gone";
      }
      return null;
    }
  }

  private void onState(String managerId, Envelope.Inbound in) {
    ManagerWatch w = managers.get(managerId);
    if (w == null) {
      return;
    }
    String oldHost;
    String newHost = in.up() ? in.host() : null;
    synchronized (w) {
      oldHost = w.host;
      w.known = true;
      w.up = in.up();
      w.host = newHost;
    }
    if (!Objects.equals(oldHost, newHost)) {
      if (newHost != null && Topics.isValidId(newHost)) {
        hostRefs.merge(newHost, 1, Integer::sum);
        subscribe(topics.alive(newHost));
      }
      if (oldHost != null) {
        if (hostRefs.merge(oldHost, -1, Integer::sum) <= 0) {
          hostRefs.remove(oldHost);
          hostAlive.remove(oldHost);
        }
        unsubscribe(topics.alive(oldHost));
      }
    }
    if (!in.up()) {
      failPendingFor(managerId, "manager '" + managerId + "' went away");
    }
  }

  private void onAlive(String host, Envelope.Inbound in) {
    hostAlive.put(host, in.up());
    if (!in.up()) {
      for (ManagerWatch w : managers.values()) {
        boolean hosted;
        synchronized (w) {
          hosted = host.equals(w.host);
        }
        if (hosted) {
          failPendingFor(w.managerId, "node '" + host + "' hosting manager '" + w.managerId + "' is gone");
        }
      }
    }
  }

  // ------------------------------------------------------------------ requests in flight

  private static final class Pending {
    final Channel channel;
    final CompletableFuture<ControlMessage> reply = new CompletableFuture<>();
    volatile ScheduledFuture<?> timeout;

    Pending(Channel channel) {
      this.channel = channel;
    }
  }

  private void failAllPending(String why) {
    for (Long id : new ArrayList<>(pending.keySet())) {
      Pending p = pending.remove(id);
      if (p != null) {
        failOnPool(p, why);
      }
    }
  }

  private void failPendingFor(String managerId, String why) {
    for (Map.Entry<Long, Pending> e : pending.entrySet()) {
      if (e.getValue().channel.managerId.equals(managerId) && pending.remove(e.getKey(), e.getValue())) {
        failOnPool(e.getValue(), why);
      }
    }
  }

  private void failOnPool(Pending p, String why) {
    if (p.timeout != null) {
      p.timeout.cancel(false);
    }
    runOnPool(() -> p.reply.completeExceptionally(new TransportException(why)));
  }

  private void runOnPool(Runnable r) {
    try {
      pool.execute(r);
    } catch (RejectedExecutionException e) {
      r.run();
    }
  }

  // ------------------------------------------------------------------ inbound

  private final class Callback implements MqttCallback {
    @Override
    public void disconnected(MqttDisconnectResponse response) {
      onConnectionLost(response == null ? "disconnected" : String.valueOf(response.getReasonString()));
    }

    @Override
    public void mqttErrorOccurred(MqttException exception) {
      log.warn("MQTT error on {}: {}", nodeId, exception.getMessage());
    }

    @Override
    public void messageArrived(String topic, MqttMessage message) {
      // Never let anything escape into Paho: an exception here tears the connection down.
      try {
        route(topic, message.getPayload());
      } catch (RuntimeException e) {
        rejects.reject("internal error", topic, e.toString());
      }
    }

    @Override
    public void deliveryComplete(IMqttToken token) {}

    @Override
    public void connectComplete(boolean reconnect, String serverURI) {}

    @Override
    public void authPacketArrived(int reasonCode, MqttProperties properties) {}
  }

  /** Runs on Paho's callback thread, in arrival order; decoding happens here so order is kept. */
  private void route(String topic, byte[] payload) {
    if (!topic.startsWith(prefix + "/")) {
      rejects.reject("unexpected topic", topic, "outside prefix");
      return;
    }
    String[] p = topic.substring(prefix.length() + 1).split("/", -1);
    if (p.length == 2 && p[1].equals("state")) {
      if (payload.length == 0) {
        onState(p[0], new Envelope.Inbound(codec.current(), Envelope.STATE, -1, null, false, null));
        return;
      }
      Envelope.Inbound in = decode(topic, payload);
      if (in != null && expect(topic, in, Envelope.STATE)) {
        onState(p[0], in);
      }
    } else if (p.length == 2 && p[1].equals("alive")) {
      if (payload.length == 0) {
        return;
      }
      Envelope.Inbound in = decode(topic, payload);
      if (in != null && expect(topic, in, Envelope.ALIVE)) {
        onAlive(p[0], in);
      }
    } else if (p.length == 3 && p[1].equals("c2m")) {
      Binding b = bindings.get(p[0]);
      if (b == null) {
        rejects.reject("no such manager here", topic, "");
        return;
      }
      if (!Topics.isValidId(p[2])) {
        rejects.reject("invalid client id", topic, "");
        return;
      }
      b.onRequest(topic, p[2], payload);
    } else if (p.length == 3 && p[1].equals("m2c")) {
      Channel c = channels.get(topic);
      if (c == null) {
        rejects.reject("no such channel here", topic, "");
        return;
      }
      Envelope.Inbound in = decode(topic, payload);
      if (in == null) {
        return;
      }
      if (Envelope.REPLY.equals(in.kind())) {
        Pending pd = pending.get(in.id());
        if (pd == null || pd.channel != c || !pending.remove(in.id(), pd)) {
          rejects.reject("unexpected reply", topic, "id " + in.id() + " (late, duplicate or not ours)");
          return;
        }
        if (pd.timeout != null) {
          pd.timeout.cancel(false);
        }
        c.deliver(() -> pd.reply.complete(in.message()));
      } else if (Envelope.PUSH.equals(in.kind())) {
        c.deliver(() -> c.pushHandler.onPush(in.message()));
      } else {
        rejects.reject("unexpected kind", topic, in.kind());
      }
    } else {
      rejects.reject("unexpected topic", topic, "");
    }
  }

  private Envelope.Inbound decode(String topic, byte[] payload) {
    try {
      return codec.decode(payload);
    } catch (Envelope.Rejected r) {
      rejects.reject(r.reason, topic, r.getMessage());
      return null;
    }
  }

  private boolean expect(String topic, Envelope.Inbound in, String kind) {
    if (!kind.equals(in.kind())) {
      rejects.reject("unexpected kind", topic, in.kind() + " where " + kind + " belongs");
      return false;
    }
    return true;
  }

  // ------------------------------------------------------------------ manager side

  private final class Binding implements ServerBinding {
    private final String managerId;
    private final RequestHandler handler;
    /** Schema version each client last wrote in, so pushes reach it in a version it reads. */
    private final Map<String, Integer> clientVersions = new ConcurrentHashMap<>();
    private volatile boolean open = true;

    Binding(String managerId, RequestHandler handler) {
      this.managerId = managerId;
      this.handler = handler;
    }

    @Override
    public String managerId() {
      return managerId;
    }

    void onRequest(String topic, String clientId, byte[] payload) {
      Envelope.Inbound in;
      try {
        in = codec.decode(payload);
      } catch (Envelope.Rejected r) {
        rejects.reject(r.reason, topic, r.getMessage());
        if (r.id >= 0 && r.version > 0) {
          // A request we can name is answered with the reason rather than left to time out; the
          // answer goes only to the sender's own inbox. A peer of another generation gets it in
          // our version, which it reads if it is one step ahead.
          boolean ours = codec.accepts(r.version);
          reply(clientId, ours ? r.version : writeVersion, r.id,
              new ErrorReply(ours ? r.reason + ": " + r.getMessage() : "unsupported schema version " + r.version));
        }
        return;
      }
      if (!Envelope.REQUEST.equals(in.kind())) {
        rejects.reject("unexpected kind", topic, in.kind() + " on a request topic");
        return;
      }
      clientVersions.put(clientId, in.version());
      Runnable call = () -> {
        CompletionStage<ControlMessage> stage;
        try {
          stage = handler.onRequest(clientId, in.message());
        } catch (RuntimeException e) {
          stage = CompletableFuture.failedFuture(e);
        }
        if (stage == null) {
          stage = CompletableFuture.failedFuture(new IllegalStateException("handler returned no reply"));
        }
        stage.whenComplete((r, e) -> {
          ControlMessage out;
          if (e != null) {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            out = new ErrorReply(String.valueOf(cause.getMessage()));
          } else if (r == null || !Envelope.REPLY.equals(Envelope.kindOf(r))) {
            out = new ErrorReply("manager produced no valid reply");
          } else {
            out = r;
          }
          reply(clientId, in.version(), in.id(), out);
        });
      };
      try {
        pool.execute(call);
      } catch (RejectedExecutionException e) {
        // closing: the client's request times out or fails on the manager's goodbye
      }
    }

    private void reply(String clientId, int version, long id, ControlMessage m) {
      if (!open) {
        return;
      }
      sender.send(topics.inbox(managerId, clientId), codec.message(version, Envelope.REPLY, id, m), false);
    }

    @Override
    public boolean push(String clientId, ControlMessage message) {
      Objects.requireNonNull(message, "message");
      if (!open || closed || !connected || !Topics.isValidId(clientId)) {
        return false;
      }
      if (!Envelope.PUSH.equals(Envelope.kindOf(message))) {
        throw new IllegalArgumentException(message.type() + " is not a push");
      }
      int v = clientVersions.getOrDefault(clientId, writeVersion);
      return sender.send(topics.inbox(managerId, clientId), codec.message(v, Envelope.PUSH, -1, message), false);
    }

    @Override
    public void close() {
      if (!open) {
        return;
      }
      open = false;
      if (bindings.remove(managerId, this)) {
        if (connected) {
          sender.send(topics.state(managerId), codec.state(false, null), true);
        }
        unsubscribe(topics.requests(managerId));
      }
    }
  }

  // ------------------------------------------------------------------ client side

  private final class Channel implements ClientChannel {
    private final String managerId;
    private final String clientId;
    private final String inbox;
    private final PushHandler pushHandler;
    private final OrderedExecutor deliveries;
    private volatile boolean open = true;

    Channel(String managerId, String clientId, PushHandler pushHandler) {
      this.managerId = managerId;
      this.clientId = clientId;
      this.pushHandler = pushHandler;
      this.deliveries = new OrderedExecutor(pool, () -> open, "client " + clientId);
      this.inbox = topics.inbox(managerId, clientId);
    }

    @Override
    public String clientId() {
      return clientId;
    }

    /** Runs deliveries of this channel one at a time, in arrival order, on the pool. */
    void deliver(Runnable r) {
      deliveries.execute(r);
    }

    @Override
    public CompletionStage<ControlMessage> request(ControlMessage request, Duration timeout) {
      Objects.requireNonNull(request, "request");
      Objects.requireNonNull(timeout, "timeout");
      Duration wait = timeout.compareTo(maxRequestTimeout) > 0 ? maxRequestTimeout : timeout;
      long id = nextId.incrementAndGet();
      Pending p = new Pending(this);
      String down = !open || closed ? "channel closed" : unreachableReason(managerId);
      if (down != null) {
        CompletableFuture<ControlMessage> failed = new CompletableFuture<>();
        runOnPool(() -> failed.completeExceptionally(new TransportException(down)));
        return failed;
      }
      byte[] bytes = codec.message(writeVersion, Envelope.REQUEST, id, request);
      pending.put(id, p);
      try {
        p.timeout = timer.schedule(() -> {
          if (pending.remove(id, p)) {
            runOnPool(() -> p.reply.completeExceptionally(
                new TransportException("no reply from '" + managerId + "' within " + wait)));
          }
        }, wait.toNanos(), TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        pending.remove(id);
        return CompletableFuture.failedFuture(new TransportException("transport closed"));
      }
      // The reply can only be heard once the inbox subscription is active.
      subscriptionReady(inbox).thenRun(() -> {
        if (pending.containsKey(id) && !sender.send(topics.request(managerId, clientId), bytes, false)) {
          if (pending.remove(id, p)) {
            failOnPool(p, "send queue full or broker unreachable");
          }
        }
      });
      return p.reply;
    }

    @Override
    public void close() {
      if (!open) {
        return;
      }
      open = false;
      if (channels.remove(inbox, this)) {
        unsubscribe(inbox);
      }
      failPendingForChannel(this);
      ManagerWatch w = managers.computeIfPresent(managerId, (k, x) -> --x.refs <= 0 ? null : x);
      if (w == null) {
        unsubscribe(topics.state(managerId));
      }
    }
  }

  private void failPendingForChannel(Channel c) {
    for (Map.Entry<Long, Pending> e : pending.entrySet()) {
      if (e.getValue().channel == c && pending.remove(e.getKey(), e.getValue())) {
        failOnPool(e.getValue(), "channel closed");
      }
    }
  }

  // ------------------------------------------------------------------ outbound

  /**
   * The one thread that publishes, so messages leave in the order they were handed over, with at
   * most {@code inflight} unacknowledged QoS 1 publishes (the broker's receive maximum must not be
   * exceeded, or Paho refuses the publish).
   */
  private final class Sender implements Runnable {
    private final Semaphore window;
    private final LinkedBlockingQueue<Out> queue;
    private final Thread thread;
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicInteger busy = new AtomicInteger();
    private volatile boolean running = true;

    Sender(int inflight, int maxQueued) {
      this.window = new Semaphore(inflight);
      this.queue = new LinkedBlockingQueue<>(maxQueued);
      this.thread = daemon(this, "semnet-mqtt-" + nodeId + "-send");
    }

    void start() {
      thread.start();
    }

    boolean send(String topic, byte[] payload, boolean retained) {
      if (!running || !queue.offer(new Out(topic, payload, retained))) {
        dropped.incrementAndGet();
        return false;
      }
      return true;
    }

    void drain(Duration max) {
      long deadline = System.nanoTime() + max.toNanos();
      while ((!queue.isEmpty() || busy.get() > 0) && connected && System.nanoTime() < deadline) {
        try {
          Thread.sleep(5);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }

    void stop() {
      running = false;
      thread.interrupt();
    }

    @Override
    public void run() {
      while (running) {
        Out o;
        try {
          o = queue.take();
        } catch (InterruptedException e) {
          return;
        }
        busy.incrementAndGet();
        try {
          if (!connected) {
            dropped.incrementAndGet();
            continue;
          }
          while (!window.tryAcquire(100, TimeUnit.MILLISECONDS)) {
            if (!running) {
              return;
            }
          }
          try {
            client.publish(o.topic, o.payload, QOS, o.retained, null, new MqttActionListener() {
              @Override
              public void onSuccess(IMqttToken token) {
                window.release();
                int[] codes = token.getReasonCodes();
                if (codes != null && codes.length > 0 && codes[0] >= 0x80) {
                  // The broker took the packet but refused the message (0x87: not authorised by the ACL).
                  dropped.incrementAndGet();
                  refusals.reject("broker refused publish (reason code 0x" + Integer.toHexString(codes[0]) + ")", o.topic, "check the ACL");
                }
              }

              @Override
              public void onFailure(IMqttToken token, Throwable e) {
                window.release();
                dropped.incrementAndGet();
              }
            });
          } catch (MqttException e) {
            window.release();
            dropped.incrementAndGet();
            log.debug("publish to {} failed: {}", o.topic, e.getMessage());
          }
        } catch (InterruptedException e) {
          return;
        } finally {
          busy.decrementAndGet();
        }
      }
    }
  }

  private record Out(String topic, byte[] payload, boolean retained) {}

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

    /** Unacknowledged QoS 1 publishes at a time (default 16; at most the broker's max_inflight_messages). */
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
