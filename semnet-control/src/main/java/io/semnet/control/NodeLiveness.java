package io.semnet.control;

import io.semnet.core.record.InstanceRecord;
import io.semnet.resolver.protocol.AvailabilityPush;
import io.semnet.resolver.protocol.SignedRecord;
import io.semnet.resolver.transport.ControlTransport;
import io.semnet.resolver.transport.LivenessListener;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A manager's view of node liveness, from its transport ({@link ControlTransport#watchLiveness}:
 * MQTT last will and presence). On every change it pushes an {@link AvailabilityPush} to each of
 * its clients (a hint: it never changes a record, locator or version floor), and the root also
 * records {@link NodeEvent}s for orchestrators: node down (with instance-unreachable for each
 * instance its records place there) and node up, for registered nodes only. A node seen down
 * when the watch starts (the broker's retained last will) counts as a change. Work runs on one
 * thread of its own, so a slow store never holds up the transport. Thread-safe.
 */
final class NodeLiveness implements LivenessListener, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NodeLiveness.class);

  private final ServiceManager sm;
  private final NodeEventLog events;
  private final Map<String, Boolean> known = new ConcurrentHashMap<>();
  private final ExecutorService worker;
  private final AutoCloseable watch;

  NodeLiveness(ServiceManager sm, ControlTransport transport, NodeEventLog events) {
    this.sm = sm;
    this.events = events;
    this.worker = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "semnet-liveness-" + sm.id);
      t.setDaemon(true);
      return t;
    });
    this.watch = transport.watchLiveness(this);
  }

  @Override
  public void onLiveness(String nodeId, boolean alive) {
    Boolean before = known.put(nodeId, alive);
    if (before != null ? before == alive : alive) {
      return; // no change (or first seen alive)
    }
    try {
      worker.execute(() -> changed(nodeId, alive));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closing
    }
  }

  private void changed(String nodeId, boolean alive) {
    long now = sm.clock.millis();
    AvailabilityPush hint = new AvailabilityPush(nodeId, alive, now);
    for (String client : sm.clients.keySet()) {
      if (!client.equals(nodeId)) {
        sm.binding.push(client, hint);
      }
    }
    if (events == null || sm.orchestration.node(nodeId) == null) {
      return;
    }
    log.info("root {}: node {} {}", sm.id, nodeId, alive ? "up" : "down");
    if (events.append(alive ? NodeEvent.Kind.NODE_UP : NodeEvent.Kind.NODE_DOWN, nodeId, null, -1) == null || alive) {
      return;
    }
    List<InstanceRecord> placed = new ArrayList<>();
    synchronized (sm.lock) {
      for (SignedRecord sr : sm.records.values()) {
        for (InstanceRecord i : sr.record().instances()) {
          if (i.locator() != null && nodeId.equals(i.locator().worker().nodeId())) {
            placed.add(i);
          }
        }
      }
    }
    for (InstanceRecord i : placed) {
      events.append(NodeEvent.Kind.INSTANCE_UNREACHABLE, nodeId, i.service(), i.ordinal());
    }
  }

  @Override
  public void close() {
    try {
      watch.close();
    } catch (Exception e) {
      log.debug("closing the liveness watch", e);
    }
    worker.shutdownNow();
  }
}
