package io.semnet.mqtt;

import io.semnet.mqtt.internal.Envelope;
import io.semnet.mqtt.internal.Topics;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.internal.OrderedExecutor;
import io.semnet.resolver.protocol.ErrorReply;
import io.semnet.resolver.transport.RequestHandler;
import io.semnet.resolver.transport.ServerBinding;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;

/**
 * A manager bound on an {@link MqttTransport}: receives requests on its {@code c2m} topics, hands
 * them to the handler and publishes replies and pushes on each client's {@code m2c} topic, in order.
 */
final class Binding implements ServerBinding {
  private final MqttTransport t;

  final String managerId;
  final RequestHandler handler;
  /** Schema version each client last wrote in, so pushes reach it in a version it reads. */
  final Map<String, Integer> clientVersions = new ConcurrentHashMap<>();
  /** Each client's requests wait in its own bounded queue and run one at a time on the shared pool. */
  private final Map<String, OrderedExecutor> requestQueues = new ConcurrentHashMap<>();
  volatile boolean open = true;
  /** The last push encoded (see {@link #encodePush}). */
  private volatile Encoded lastPush;

  Binding(MqttTransport t, String managerId, RequestHandler handler) {
    this.t = t;
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
      in = t.codec.decode(payload);
    } catch (Envelope.Rejected r) {
      t.rejects.reject(r.reason, topic, r.getMessage());
      if (r.id >= 0 && r.version > 0) {
        // A request we can name is answered with the reason rather than left to time out; the
        // answer goes only to the sender's own inbox. A peer of another generation gets it in
        // our version, which it reads if it is one step ahead.
        boolean ours = t.codec.accepts(r.version);
        reply(clientId, ours ? r.version : t.writeVersion, r.id,
            new ErrorReply(ours ? r.reason + ": " + r.getMessage() : "unsupported schema version " + r.version));
      }
      return;
    }
    if (!Envelope.REQUEST.equals(in.kind())) {
      t.rejects.reject("unexpected kind", topic, in.kind() + " on a request topic");
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
    OrderedExecutor q = requestQueues.computeIfAbsent(clientId,
        c -> new OrderedExecutor(t.pool, () -> open, "requests of " + c, t.maxQueuedRequests));
    try {
      if (!q.offer(call)) {
        t.overloaded.incrementAndGet();
        reply(clientId, in.version(), in.id(), new ErrorReply(ErrorReply.OVERLOADED,
            "request queue of '" + clientId + "' is full (" + t.maxQueuedRequests + ")"));
      }
    } catch (RejectedExecutionException e) {
      // closing: the client's request times out or fails on the manager's goodbye
    }
  }

  void reply(String clientId, int version, long id, ControlMessage m) {
    if (!open) {
      return;
    }
    t.sender.send(t.topics.inbox(managerId, clientId), t.codec.message(version, Envelope.REPLY, id, m), false);
  }

  @Override
  public boolean push(String clientId, ControlMessage message) {
    Objects.requireNonNull(message, "message");
    if (!open || t.closed || !t.connected || !Topics.isValidId(clientId)) {
      return false;
    }
    if (!Envelope.mayPush(message)) {
      throw new IllegalArgumentException(message.type() + " is not a push");
    }
    int v = clientVersions.getOrDefault(clientId, t.writeVersion);
    return t.sender.send(t.topics.inbox(managerId, clientId), encodePush(v, message), false);
  }

  /**
   * The push's payload; a manager fanning one change out to a thousand clients hands over equal
   * messages one after the other, so the last encoding is reused (payloads are never modified).
   */
  private byte[] encodePush(int version, ControlMessage message) {
    Encoded last = lastPush;
    if (last != null && last.version == version && last.message.equals(message)) {
      return last.bytes;
    }
    byte[] bytes = t.codec.message(version, Envelope.PUSH, -1, message);
    lastPush = new Encoded(version, message, bytes);
    return bytes;
  }

  private record Encoded(int version, ControlMessage message, byte[] bytes) {}

  @Override
  public void close() {
    if (!open) {
      return;
    }
    open = false;
    if (t.bindings.remove(managerId, this)) {
      if (t.connected) {
        t.sender.send(t.topics.state(managerId), t.codec.state(false, null), true);
      }
      t.connection.unsubscribe(t.topics.requests(managerId));
    }
  }
}
