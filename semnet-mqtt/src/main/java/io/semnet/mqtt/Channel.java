package io.semnet.mqtt;

import io.semnet.mqtt.internal.Envelope;
import io.semnet.resolver.internal.OrderedExecutor;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.transport.ClientChannel;
import io.semnet.resolver.transport.PushHandler;
import io.semnet.resolver.transport.TransportException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A client's channel to one manager over an {@link MqttTransport}: publishes requests, matches
 * replies by id with a bounded timeout, and delivers pushes on one serial queue in arrival order.
 */
final class Channel implements ClientChannel {
  private final MqttTransport t;

  final String managerId;
  final String clientId;
  final String inbox;
  final PushHandler pushHandler;
  final OrderedExecutor deliveries;
  volatile boolean open = true;

  Channel(MqttTransport t, String managerId, String clientId, PushHandler pushHandler) {
    this.t = t;
    this.managerId = managerId;
    this.clientId = clientId;
    this.pushHandler = pushHandler;
    this.deliveries = new OrderedExecutor(t.pool, () -> open, "client " + clientId);
    this.inbox = t.topics.inbox(managerId, clientId);
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
    Duration wait = timeout.compareTo(t.maxRequestTimeout) > 0 ? t.maxRequestTimeout : timeout;
    long id = t.nextId.incrementAndGet();
    PendingRequests.Pending p = new PendingRequests.Pending(this);
    String down = !open || t.closed ? "channel closed" : t.presence.unreachableReason(managerId);
    if (down != null) {
      CompletableFuture<ControlMessage> failed = new CompletableFuture<>();
      t.inFlight.runOnPool(() -> failed.completeExceptionally(new TransportException(down)));
      return failed;
    }
    byte[] bytes = t.codec.message(t.writeVersion, Envelope.REQUEST, id, request);
    t.pending.put(id, p);
    try {
      p.timeout = t.timer.schedule(() -> {
        if (t.pending.remove(id, p)) {
          t.inFlight.runOnPool(() -> p.reply.completeExceptionally(
              new TransportException("no reply from '" + managerId + "' within " + wait)));
        }
      }, wait.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      t.pending.remove(id);
      return CompletableFuture.failedFuture(new TransportException("transport closed"));
    }
    // The reply can only be heard once the inbox subscription is active, and the manager hears the
    // request only once its own subscription is: wait for its state (at most the presence grace).
    t.connection.subscriptionReady(inbox).thenCombine(t.presence.settled(managerId), (a, b) -> b).thenRun(() -> {
      if (!t.pending.containsKey(id)) {
        return;
      }
      String why = t.presence.unreachableReason(managerId);
      if (why == null && t.sender.send(t.topics.request(managerId, clientId), bytes, false)) {
        return;
      }
      if (t.pending.remove(id, p)) {
        t.inFlight.failOnPool(p, why != null ? why : "send queue full or broker unreachable");
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
    if (t.channels.remove(inbox, this)) {
      t.connection.unsubscribe(inbox);
    }
    t.inFlight.failPendingForChannel(this);
    Presence.ManagerWatch w = t.managers.computeIfPresent(managerId, (k, x) -> --x.refs <= 0 ? null : x);
    if (w == null) {
      t.connection.unsubscribe(t.topics.state(managerId));
    }
  }
}
