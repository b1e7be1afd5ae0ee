package io.semnet.proxy;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.node.LocalInstances;
import io.semnet.core.node.NodeContext;
import io.semnet.core.node.PacketIo;
import io.semnet.core.node.PacketTranslator;
import io.semnet.core.node.Tunnel;
import io.semnet.core.record.InstanceKey;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.stats.StatsSource;
import io.semnet.core.stats.StatsVisitor;
import io.semnet.proxy.internal.Forwarder;
import io.semnet.proxy.internal.TranslatorConfig;
import io.semnet.proxy.internal.TranslatorParts;
import io.semnet.proxy.internal.TranslatorStats;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The node's packet translator: turns packets from local instances (read from the TUN) addressed
 * to ServiceIPs and InstanceIPs into packets between InstanceIP and namespace IP, sends them to the
 * peer hosting the chosen instance (or back into the TUN for a local one), and reverses the
 * translation for replies so a client sees answers from the address it contacted.
 *
 * <p>Guarantees: a flow keeps its chosen instance for its life (unless told the instance moved);
 * established-flow translation is lock-free and allocates nothing; checksums are updated
 * incrementally (RFC 1624); a route miss never blocks the data path (the first packets are
 * parked, bounded, while the resolver answers); malformed packets are counted and dropped, never
 * thrown on. Packets are sent from the thread that delivered them, and from resolver threads when
 * parked packets are released, so the {@link Tunnel} and {@link PacketIo} must accept sends from
 * several threads.
 *
 * <p>This class is a façade: the work is done by the parts in {@code io.semnet.proxy.internal}
 * (forwarding path, flow set-up and lifecycle, ICMP, parking, migration holds, re-pointing), see
 * the module's README.
 *
 * <pre>{@code
 * // built by semnet-node's WorkerNode.builder(registration); further settings through
 * // .translatorOptions(t -> t.maxFlows(100_000))
 * SemnetTranslator translator = SemnetTranslator.builder().maxFlows(100_000).underlayMtu(1500).build();
 * }</pre>
 */
public final class SemnetTranslator implements PacketTranslator, StatsSource {
  private static final Counter[] COUNTERS = Counter.values();

  private final TranslatorParts parts;
  /** The hot path, held directly so each packet costs one call more than the part's own. */
  private final Forwarder forwarder;
  private final boolean buffering;

  SemnetTranslator(TranslatorConfig config) {
    this.parts = new TranslatorParts(config);
    this.forwarder = parts.forwarder();
    this.buffering = config.holdBuffering();
  }

  /** A builder with defaults that suit a small edge node. */
  public static TranslatorBuilder builder() {
    return new TranslatorBuilder();
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Takes the node's packet I/O, tunnel (optional), resolver, local instances, view and policies
   * from {@code context} and starts the control thread.
   *
   * @throws IllegalStateException if the node has no packet I/O or no resolver
   */
  @Override
  public void start(NodeContext context) {
    parts.start(context);
  }

  /** Stops the control thread and forgets every flow; idempotent. */
  @Override
  public void close() {
    parts.close();
  }

  // ---------------------------------------------------------------- observation

  /** The value of one counter (summed over data-path threads; eventually consistent). */
  public long counter(Counter c) {
    return parts.scratches().count(c);
  }

  /** A snapshot of all counters. */
  public Map<Counter, Long> counters() {
    Map<Counter, Long> m = new EnumMap<>(Counter.class);
    for (Counter c : COUNTERS) {
      m.put(c, counter(c));
    }
    return m;
  }

  /** Total packets dropped, over all reasons. */
  public long drops() {
    long n = 0;
    for (Counter c : COUNTERS) {
      if (c.isDrop()) {
        n += counter(c);
      }
    }
    return n;
  }

  /**
   * Reports drops by reason, events, table size, parked packets and per-ServiceIP flows and bytes
   * (the first 64 ServiceIPs seen get their own series, later ones share {@code service_ip="other"}).
   */
  @Override
  public void reportTo(StatsVisitor visitor) {
    TranslatorStats.report(parts, visitor);
  }

  /** Snapshots of up to {@code limit} flows in the table (for inspection; walks the table under its lock). */
  public List<FlowInfo> flows(int limit) {
    if (limit < 0) {
      throw new IllegalArgumentException("limit < 0: " + limit);
    }
    return parts.flows().snapshot(limit, Forwarder.clock());
  }

  /** Flows in the conversion table. */
  public int flowCount() {
    return parts.flows().count();
  }

  /** Flow objects handed out again from the recycling pool so far (for tests). */
  long recycledFlows() {
    return parts.flows().recycledCount();
  }

  /** Packets parked waiting for routes. */
  public int parkedCount() {
    return parts.parking().count();
  }

  /** The largest inner packet the tunnel carries (underlay MTU minus overhead). */
  public int maxInnerPacket() {
    return forwarder.maxInner();
  }

  /** Forgets every flow (e.g. after the node's addresses were reset). */
  public void clearFlows() {
    parts.flows().clear();
  }

  // ---------------------------------------------------------------- data path entry points

  @Override
  public void onPacket(ByteBuffer packet) {
    forwarder.onPacket(packet);
  }

  @Override
  public void onPacketBatchEnd() {
    forwarder.onPacketBatchEnd();
  }

  @Override
  public void onData(WorkerEndpoint from, ByteBuffer packet) {
    forwarder.onData(from, packet);
  }

  @Override
  public void onTunnelBatchEnd() {
    forwarder.onTunnelBatchEnd();
  }

  @Override
  public void onRouteNotFound(WorkerEndpoint from, InetAddress namespaceIp) {
    parts.repointing().onRouteNotFound(from, namespaceIp);
  }

  // ---------------------------------------------------------------- make-before-break migration

  /**
   * The {@code freeze} phase of a migration away from this node: instance {@code instance} (a
   * local instance, with its current locator) stops here. From now on packets for its namespace
   * IPs, from the tunnel and from local senders, are held in a bounded FIFO of its own (or dropped
   * and counted when buffering is off); none reach this node's bridge any more. When this node
   * learns a newer locator for the instance (pushed by the root after the {@code restored} phase,
   * or handed to {@link #release}), the held packets are replayed in order to the new place, and
   * later packets that still arrive here are forwarded there, with the replies of such flows
   * relayed back: no black hole while senders converge.
   *
   * <p>Why at the source: the freeze needs no control message (only this node's orchestrator
   * agent knows about it), and until a sender applies the new locator its packets arrive here
   * anyway, so this is the one place that sees every sender's packets; the senders need no state.
   * The freeze also registers this node's interest in the instance's service (a table query unless
   * the route is cached), so the root's push of the new locator reaches it.
   *
   * <p>Called by the orchestrator's node agent before it removes the instance from
   * {@link LocalInstances}; replaces an earlier hold of the same instance. Never blocks the data path.
   * Buffers as the builder's {@link TranslatorBuilder#migrationBuffering} says.
   */
  public void freeze(InstanceRecord instance) {
    parts.holds().freeze(instance, buffering, null);
  }

  /**
   * {@link #freeze(InstanceRecord)}, choosing for this migration whether packets are held
   * ({@code buffering}) or dropped and counted until the release (e.g. a cold move whose sockets
   * are gone anyway, or to measure what buffering saves). When the orchestrator already knows the
   * destination it may name it ({@code destination}, else null): the tunnel link there is set up
   * during the freeze, so the release does not wait for a handshake.
   */
  public void freeze(InstanceRecord instance, boolean buffering, WorkerEndpoint destination) {
    parts.holds().freeze(instance, buffering, destination);
  }

  /**
   * Releases a frozen instance to {@code to} (the {@code restored} phase as this node learns it):
   * replays the held packets in order, then forwards late ones. Normally called by the translator
   * itself when a record with a newer locator is pushed; an orchestrator agent may call it directly.
   * A locator on this node (the migration was called off) delivers the held packets here. Ignored
   * for an instance that is not frozen or a locator that is not newer than the one it froze at.
   */
  public void release(InstanceKey instance, Locator to) {
    parts.holds().release(instance, to);
  }

  /**
   * The destination's side of a move: {@code restored} (its record on this node) was restored here
   * from node {@code fromNode}. Until that node's in-band replay-end marker arrives (it follows the
   * last packet it held for the instance), packets for the instance from other peers (senders that
   * already applied the new locator) wait, so no flow's packets overtake those still being replayed
   * or forwarded: each flow reaches the instance in the order its sender sent it. Bounded (2,048
   * packets / 2 MiB, 500 ms after the first waits): past a bound the waiting packets are delivered
   * at once and {@link Counter#MIGRATION_ORDER_BOUND_HIT} counts it; nothing is dropped. Call it
   * before the instance is attached here; never blocks.
   */
  public void expectReplay(InstanceRecord restored, String fromNode) {
    parts.gates().open(restored, fromNode);
  }

  /**
   * The destination's side of a stateful move, once {@code restored} is attached here with the
   * namespace IPs it had at {@code previous}: tells that node in-band, through the tunnel, that the
   * instance runs here. If it froze the instance naming this node as the destination
   * ({@link #freeze(InstanceRecord, boolean, WorkerEndpoint)}), it replays what it held at once
   * instead of waiting for the root's publish and push, which take the critical path otherwise
   * (the push still releases if this one datagram is lost). Never blocks.
   *
   * <p>Call it only once this node's managers know it hosts the instance (they applied the root's
   * record): the replayed packets' senders must be visible to it, or its queries for them are
   * answered not-found and the replay is dropped ({@code DROP_SOURCE_NOT_OWNED}). Right after
   * publish that is a race (seen once at load 30), so {@code WorkerNode} does not call it yet.
   */
  public void announceRestore(InstanceRecord restored, WorkerEndpoint previous) {
    parts.holds().announceRestore(restored, previous);
  }

  /** What this node did with the packets of an instance migrating away, or null if it holds none. */
  public MigrationHoldStats holdStats(InstanceKey instance) {
    return parts.holds().stats(instance);
  }

  /** Expires idle flows, stale fragment entries, parked packets and holds (the control thread does, periodically). */
  void sweep() {
    parts.sweep();
  }
}
