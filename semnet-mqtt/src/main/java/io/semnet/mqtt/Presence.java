package io.semnet.mqtt;

import io.semnet.mqtt.internal.Envelope;
import io.semnet.mqtt.internal.Topics;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * What an {@link MqttTransport} knows of the managers it has channels to: their retained state
 * (bound or not, on which node) and the liveness of the nodes hosting them, so requests to a
 * manager that is gone fail at once. Works on the transport's state; holds none itself.
 */
final class Presence {
  private final MqttTransport t;

  Presence(MqttTransport t) {
    this.t = t;
  }

  /**
   * A broker sends retained state right after the subscription is acknowledged; if none came within
   * the grace period, nobody ever bound the manager (or the broker forgot it) and requests can fail
   * fast. Until then requests wait for the state ({@link #settled}), so none is published before the
   * manager's request subscription is active (a manager announces "up" only once it is).
   */
  void armPresenceGrace(String managerId) {
    ManagerWatch w = t.managers.get(managerId);
    if (w == null) {
      return;
    }
    t.connection.subscriptionReady(t.topics.state(managerId)).thenRun(() -> {
      try {
        ScheduledFuture<?> f = t.timer.schedule(() -> {
          synchronized (w) {
            if (!w.known) {
              w.known = true;
              w.up = false;
              w.settled.complete(null);
            }
          }
        }, t.absentAfterNanos, TimeUnit.NANOSECONDS);
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

  /**
   * Completes once what this node knows of the manager is settled: its retained state arrived, or
   * the presence grace ran out without one (then it counts as not bound). At once for a manager
   * this node has no channel to.
   */
  CompletableFuture<Void> settled(String managerId) {
    ManagerWatch w = t.managers.get(managerId);
    if (w == null) {
      return CompletableFuture.completedFuture(null);
    }
    synchronized (w) {
      return w.settled;
    }
  }

  /** Forgets what was known of every manager (after a reconnect: a broker restart forgets retained state). */
  void forgetAll() {
    for (ManagerWatch w : t.managers.values()) {
      synchronized (w) {
        w.known = false;
        w.up = false;
        if (w.settled.isDone()) {
          w.settled = new CompletableFuture<>();
        }
        // w.host stays: it is only a key for the alive subscription, replaced by the next state.
      }
    }
  }

  /** Null if the manager may be reachable, else why it is not. */
  String unreachableReason(String managerId) {
    if (!t.connected) {
      return "not connected to the MQTT broker";
    }
    ManagerWatch w = t.managers.get(managerId);
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
      if (w.host != null && Boolean.FALSE.equals(t.hostAlive.get(w.host))) {
        return "node '" + w.host + "' hosting manager '" + managerId + "' is gone";
      }
      return null;
    }
  }

  void onState(String managerId, Envelope.Inbound in) {
    ManagerWatch w = t.managers.get(managerId);
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
      w.settled.complete(null);
    }
    if (!Objects.equals(oldHost, newHost)) {
      if (newHost != null && Topics.isValidId(newHost)) {
        t.hostRefs.merge(newHost, 1, Integer::sum);
        t.connection.subscribe(t.topics.alive(newHost));
      }
      if (oldHost != null) {
        if (t.hostRefs.merge(oldHost, -1, Integer::sum) <= 0) {
          t.hostRefs.remove(oldHost);
          t.hostAlive.remove(oldHost);
        }
        t.connection.unsubscribe(t.topics.alive(oldHost));
      }
    }
    if (!in.up()) {
      t.inFlight.failPendingFor(managerId, "manager '" + managerId + "' went away");
    }
  }

  void onAlive(String host, Envelope.Inbound in) {
    if (!t.liveness.isEmpty() && !Boolean.valueOf(in.up()).equals(t.livenessTold.put(host, in.up()))) {
      for (io.semnet.resolver.transport.LivenessListener l : t.liveness) {
        try {
          l.onLiveness(host, in.up());
        } catch (RuntimeException e) {
          org.slf4j.LoggerFactory.getLogger(MqttTransport.class).warn("liveness listener failed", e);
        }
      }
    }
    if (t.hostRefs.containsKey(host)) { // a host of a manager we talk to (the liveness watch sees every node)
      t.hostAlive.put(host, in.up());
    }
    if (!in.up()) {
      for (ManagerWatch w : t.managers.values()) {
        boolean hosted;
        synchronized (w) {
          hosted = host.equals(w.host);
        }
        if (hosted) {
          t.inFlight.failPendingFor(w.managerId, "node '" + host + "' hosting manager '" + w.managerId + "' is gone");
        }
      }
    }
  }

  /** What a client knows about a manager it has channels to. Guarded by its own monitor. */
  static final class ManagerWatch {
    final String managerId;
    int refs;
    boolean known;
    boolean up;
    String host;
    ScheduledFuture<?> grace;
    /** Completed when {@link #known} becomes true; replaced when it is reset. */
    CompletableFuture<Void> settled = new CompletableFuture<>();

    ManagerWatch(String managerId) {
      this.managerId = managerId;
    }
  }
}
