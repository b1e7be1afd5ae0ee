package io.semnet.testkit;

import io.semnet.resolver.WorkerResolver;

import io.semnet.core.record.InstanceKey;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.RouteListener;
import io.semnet.core.service.ServiceId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Watches how one migration reaches a set of nodes: when each node's resolver applied a locator of
 * the instance newer than the one it had when the watch started (t_apply per node), and how many
 * record pushes for the service the nodes received meanwhile (the control messages of the
 * migration as the nodes see them). Listening costs nothing on the data path; {@link #close} stops it.
 * Feeds {@link MigrationReport}. Thread-safe.
 */
public final class MigrationWatch implements AutoCloseable {
  private final InstanceKey instance;
  private final Locator before;
  private final Map<String, Long> applied = new ConcurrentHashMap<>();
  private final AtomicLong pushes = new AtomicLong();
  private final List<Runnable> unlisten = new ArrayList<>();

  private MigrationWatch(InstanceKey instance, Locator before) {
    this.instance = instance;
    this.before = before;
  }

  /**
   * Starts watching {@code nodes} (node id → resolver) for a move of {@code instance} away from
   * {@code before} (its locator now). Start it before the {@code restored} phase.
   */
  public static MigrationWatch start(InstanceKey instance, Locator before, Map<String, WorkerResolver> nodes) {
    Objects.requireNonNull(before, "before");
    MigrationWatch w = new MigrationWatch(Objects.requireNonNull(instance, "instance"), before);
    nodes.forEach((id, resolver) -> {
      RouteListener l = w.new NodeListener(id);
      resolver.addListener(l);
      w.unlisten.add(() -> resolver.removeListener(l));
    });
    return w;
  }

  /** {@link System#nanoTime()} at which each node applied the new locator, for the nodes that did. */
  public Map<String, Long> applied() {
    return Map.copyOf(applied);
  }

  /** Record pushes for the instance's service the watched nodes received since the start. */
  public long pushes() {
    return pushes.get();
  }

  @Override
  public void close() {
    unlisten.forEach(Runnable::run);
    unlisten.clear();
  }

  private final class NodeListener implements RouteListener {
    private final String node;

    NodeListener(String node) {
      this.node = node;
    }

    @Override
    public void onRecordUpdated(ServiceRecord previous, ServiceRecord current) {
      if (!current.service().equals(instance.service())) {
        return;
      }
      pushes.incrementAndGet();
      InstanceRecord i = current.instance(instance.ordinal());
      if (i != null && i.locator() != null && i.locator().isNewerThan(before)) {
        applied.putIfAbsent(node, System.nanoTime());
      }
    }

    @Override
    public void onServiceRemoved(ServiceId service) {}
  }
}
