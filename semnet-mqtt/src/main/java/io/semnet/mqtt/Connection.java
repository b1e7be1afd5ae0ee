package io.semnet.mqtt;

import io.semnet.resolver.transport.TransportException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An {@link MqttTransport}'s broker connection and subscriptions: connects (and reconnects with
 * back-off), restores subscriptions, presence and manager announcements after every reconnect,
 * and counts subscribers per topic filter so a filter is subscribed once and unsubscribed with its
 * last user. Works on the transport's state; holds none itself.
 */
final class Connection {
  private static final Logger log = LoggerFactory.getLogger(MqttTransport.class);

  private final MqttTransport t;

  Connection(MqttTransport t) {
    this.t = t;
  }

  // ------------------------------------------------------------------ connection

  void connectOnce() {
    if (t.closed || t.connected || t.suspended) {
      return;
    }
    IMqttToken token;
    try {
      token = t.client.connect(t.options);
      token.waitForCompletion(t.options.getConnectionTimeout() * 1000L + 1000);
    } catch (MqttException e) {
      long delay = t.backoffMillis;
      t.backoffMillis = Math.min(t.maxBackoffMillis, t.backoffMillis * 2);
      log.debug("connect to {} failed ({}); retrying in {} ms", t.uri, e.getMessage(), delay);
      schedule(this::connectOnce, delay);
      return;
    }
    // The broker's Receive Maximum (CONNACK) bounds our window, or Paho refuses publishes past it.
    t.sender.limitTo(token.getResponseProperties() == null ? null : token.getResponseProperties().getReceiveMaximum());
    onConnected();
  }

  void onConnected() {
    t.backoffMillis = t.minBackoffMillis;
    // Retained state seen before the gap may be stale (a broker restart forgets it): re-learn it.
    t.presence.forgetAll();
    t.hostAlive.clear();
    List<String> filters;
    synchronized (t.subscriptions) {
      filters = new ArrayList<>(t.subscriptions.keySet());
      for (String f : filters) {
        SubState fresh = new SubState();
        fresh.refs = t.subscriptions.get(f).refs;
        t.subscriptions.put(f, fresh);
      }
    }
    t.connected = true;
    synchronized (t.connectLock) {
      t.connectLock.notifyAll();
    }
    for (String f : filters) {
      sendSubscribe(f);
    }
    t.sender.send(t.topics.alive(t.nodeId), t.codec.alive(true), true);
    for (Binding b : t.bindings.values()) {
      subscriptionReady(t.topics.requests(b.managerId)).thenRun(() -> {
        if (t.bindings.get(b.managerId) == b) {
          t.sender.send(t.topics.state(b.managerId), t.codec.state(true, t.nodeId), true);
        }
      });
    }
    for (String m : t.managers.keySet()) {
      t.presence.armPresenceGrace(m);
    }
    log.info("{} connected to MQTT broker {}", t.nodeId, t.uri);
  }

  void onConnectionLost(String why) {
    if (!t.connected) {
      return;
    }
    t.connected = false;
    t.reconnects.incrementAndGet();
    log.warn("{} lost MQTT broker {}: {}; reconnecting", t.nodeId, t.uri, why);
    t.inFlight.failAllPending("connection to broker lost");
    if (!t.closed) {
      schedule(this::connectOnce, t.minBackoffMillis);
    }
  }

  void schedule(Runnable r, long delayMillis) {
    try {
      t.timer.schedule(r, delayMillis, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // closing
    }
  }

  void subscribe(String filter) {
    boolean fresh;
    synchronized (t.subscriptions) {
      SubState s = t.subscriptions.get(filter);
      fresh = s == null;
      if (fresh) {
        s = new SubState();
        t.subscriptions.put(filter, s);
      }
      s.refs++;
    }
    if (fresh && t.connected) {
      sendSubscribe(filter);
    }
  }

  void unsubscribe(String filter) {
    boolean last = false;
    synchronized (t.subscriptions) {
      SubState s = t.subscriptions.get(filter);
      if (s != null && --s.refs <= 0) {
        t.subscriptions.remove(filter);
        last = true;
      }
    }
    if (last && t.connected) {
      try {
        t.client.unsubscribe(filter);
      } catch (MqttException e) {
        log.debug("unsubscribe {} failed: {}", filter, e.getMessage());
      }
    }
  }

  CompletableFuture<Void> subscriptionReady(String filter) {
    SubState s = t.subscriptions.get(filter);
    return s == null ? CompletableFuture.failedFuture(new TransportException("not subscribed")) : s.ready;
  }

  void sendSubscribe(String filter) {
    SubState s = t.subscriptions.get(filter);
    if (s == null) {
      return;
    }
    try {
      t.client.subscribe(filter, MqttTransport.QOS, null, new MqttActionListener() {
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

  static final class SubState {
    final CompletableFuture<Void> ready = new CompletableFuture<>();
    int refs;
  }
}
