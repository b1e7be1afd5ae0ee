package io.semnet.samples.cluster;

import io.semnet.core.record.InstanceKey;
import io.semnet.node.WorkerNode;
import io.semnet.proxy.MigrationHoldStats;
import io.semnet.testkit.MigrationReport;
import io.semnet.testkit.MigrationWatch;

/**
 * One stateful migration driven by {@link LocalCluster#migrateStateful}: its phase timestamps, the
 * watch on every node's resolver (t_apply) and the source node's hold. {@link #report()} turns them
 * into a {@link MigrationReport} the caller completes with what its traffic saw (t_first, UDP, TCP).
 * {@link #close} stops the watch.
 */
public final class Migration implements AutoCloseable {
  private final InstanceKey instance;
  private final WorkerNode from;
  private final WorkerNode to;
  private final boolean buffering;
  private final MigrationWatch watch;
  private final long tFreeze;
  private final long tUp;
  private final long tPub;

  Migration(InstanceKey instance, WorkerNode from, WorkerNode to, boolean buffering, MigrationWatch watch,
      long tFreeze, long tUp, long tPub) {
    this.instance = instance;
    this.from = from;
    this.to = to;
    this.buffering = buffering;
    this.watch = watch;
    this.tFreeze = tFreeze;
    this.tUp = tUp;
    this.tPub = tPub;
  }

  public InstanceKey instance() {
    return instance;
  }

  public WorkerNode from() {
    return from;
  }

  public WorkerNode to() {
    return to;
  }

  /** {@link System#nanoTime()} when the instance was frozen at the source. */
  public long tFreeze() {
    return tFreeze;
  }

  /** When the instance ran at the destination and the root was told (t_up). */
  public long tUp() {
    return tUp;
  }

  /** When the root had published the new locator (t_pub). */
  public long tPub() {
    return tPub;
  }

  public MigrationWatch watch() {
    return watch;
  }

  /** What the source node did with the instance's packets, or null once it forgot them. */
  public MigrationHoldStats hold() {
    return from.translator().holdStats(instance);
  }

  /** Waits until the source node has replayed its held packets (it learned the new locator). */
  public Migration awaitReleased() {
    LocalCluster.waitFor(() -> {
      MigrationHoldStats h = hold();
      return h == null || h.phase().equals("forwarding");
    }, "the source node to release " + instance + " (" + hold() + "; nodes that applied the new locator: "
        + watch.applied().keySet() + ")");
    return this;
  }

  /** A report builder with the phases, the watch and the hold filled in. */
  public MigrationReport.Builder report() {
    MigrationReport.Builder b = MigrationReport.builder(instance).stateful(true).buffering(buffering)
        .phases(tFreeze, tUp, tPub).watched(watch);
    MigrationHoldStats h = hold();
    if (h != null) {
      b.hold(h.buffered(), h.replayed(), h.overflowed(), h.droppedFrozen(), h.forwardedLate(), h.relayed());
    }
    return b;
  }

  /**
   * The report with what a {@link MigrationTraffic} client saw: t_first is its first echo at or
   * after t_up; UDP counts cover the datagrams sent from the freeze on (the stream's warm-up, when
   * the route and the tunnel links were still being set up, is not the migration's).
   */
  public MigrationReport report(MigrationTraffic.Result r) {
    long[] w = r.window(tFreeze, Long.MAX_VALUE);
    return report()
        .tFirst(r.firstEchoAfter(tUp))
        .udp(w[0], w[1], r.duplicated(), r.reordered())
        .tcp(r.tcpSurvived(tUp), r.tcpResets())
        .build();
  }

  @Override
  public void close() {
    watch.close();
  }
}
