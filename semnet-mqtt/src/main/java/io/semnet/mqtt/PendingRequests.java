package io.semnet.mqtt;

import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.transport.TransportException;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;

/**
 * Fails an {@link MqttTransport}'s requests in flight, all of them or those to one manager, on the
 * transport's pool (never on Paho's thread). Works on the transport's state; holds none itself.
 */
final class PendingRequests {
  private final MqttTransport t;

  PendingRequests(MqttTransport t) {
    this.t = t;
  }

  void failAllPending(String why) {
    for (Long id : new ArrayList<>(t.pending.keySet())) {
      Pending p = t.pending.remove(id);
      if (p != null) {
        failOnPool(p, why);
      }
    }
  }

  void failPendingFor(String managerId, String why) {
    for (Map.Entry<Long, Pending> e : t.pending.entrySet()) {
      if (e.getValue().channel.managerId.equals(managerId) && t.pending.remove(e.getKey(), e.getValue())) {
        failOnPool(e.getValue(), why);
      }
    }
  }

  void failOnPool(Pending p, String why) {
    if (p.timeout != null) {
      p.timeout.cancel(false);
    }
    runOnPool(() -> p.reply.completeExceptionally(new TransportException(why)));
  }

  void runOnPool(Runnable r) {
    try {
      t.pool.execute(r);
    } catch (RejectedExecutionException e) {
      r.run();
    }
  }

  void failPendingForChannel(Channel c) {
    for (Map.Entry<Long, Pending> e : t.pending.entrySet()) {
      if (e.getValue().channel == c && t.pending.remove(e.getKey(), e.getValue())) {
        failOnPool(e.getValue(), "channel closed");
      }
    }
  }

  static final class Pending {
    final Channel channel;
    final CompletableFuture<ControlMessage> reply = new CompletableFuture<>();
    volatile ScheduledFuture<?> timeout;

    Pending(Channel channel) {
      this.channel = channel;
    }
  }
}
