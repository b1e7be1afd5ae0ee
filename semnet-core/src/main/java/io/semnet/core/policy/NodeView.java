package io.semnet.core.policy;

import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceKey;
import io.semnet.core.record.InstanceRecord;

/**
 * What a node knows locally when a routing policy chooses an instance: RTT to peer nodes (measured
 * by the tunnel's keepalives), which peers are down, which instances the translator's passive
 * health checks have ejected, active flows per instance and the observed connection set-up latency
 * per instance (measured by the translator from TCP handshakes).
 *
 * <h2>Availability and ejection</h2>
 *
 * <p>{@link #isAvailable(InstanceRecord)} is what every built-in policy asks before choosing a
 * candidate: the instance is placed, its node is not marked down (a peer whose keepalives went
 * unanswered: all its instances go at once) and it is not {@linkplain #isEjected ejected}. The
 * translator ejects an instance from <em>new-flow</em> selection when the data path sees it fail
 * (a TCP SYN without SYN-ACK within a bound, an ICMP unreachable about a flow to it, a
 * route-not-found for it from the node its record names, silence on a UDP flow that had replies)
 * for a back-off that doubles on every ejection in a row (like Envoy's outlier detection), never
 * more than a capped share of a service's instances at once. Flows already established are never
 * moved because of it. A policy that wants to choose an ejected instance anyway (e.g. when nothing
 * else is available) may read {@link #isEjected} and {@link #isPeerUp} itself.
 *
 * <p>All reads are lock-free and allocation-free, so policies can call them on the data path.
 *
 * <h2>Deriving state once per change</h2>
 *
 * <p>A policy that orders candidates by what changes rarely (RTT, peer liveness) need not rescan
 * them for every flow: it may derive its choice, or an ordering, once and reuse it while nothing
 * it depends on has changed. What it may rely on:
 *
 * <ul>
 *   <li>{@link #version()} increases whenever {@link #rttNanos(String)} or
 *       {@link #isPeerUp(String)} would answer differently for some peer, and whenever a handle
 *       from {@link #instanceStats} would stop reflecting its instance. It does <em>not</em> move
 *       for {@link #activeFlows} or {@link #setupLatencyNanos}, which change with every flow: read
 *       those live, through an {@link InstanceStats} handle.
 *   <li>The measurement is written before the version moves. A policy that reads
 *       {@code version()} first and the measurements after derives from data at least as new as
 *       that version; tagging the derived state with the version read first is therefore safe
 *       (at worst it is rebuilt once more than needed, never kept when stale).
 *   <li>Everything a record carries (capacity, location, membership) is covered by
 *       {@link CandidateSet#generation()}: derived state is valid for one (candidate set,
 *       generation, view, version).
 *   <li>A view that reports no changes returns {@link #UNVERSIONED}; a policy must then derive
 *       nothing across choices.
 * </ul>
 *
 * <p>The node's {@link LocalNodeView} bumps the version only from its update methods (the tunnel's
 * keepalive thread, the translator), each bump a single atomic increment: a policy should rebuild
 * lazily on the first choice that sees a new version, at most once per version (see the built-in
 * policies), so a burst of measurements costs one rebuild per candidate set that is used, not one
 * per measurement per set.
 */
public interface NodeView {
  /** Value returned for a measurement that has not been made. */
  long UNKNOWN = -1;

  /** {@link #version()} of a view that does not report changes. */
  long UNVERSIONED = Long.MIN_VALUE;

  /** This node's id; instances on it have RTT 0. */
  String localNodeId();

  /** This node's location, or null if not configured. */
  GeoPoint localLocation();

  /** Smoothed RTT to {@code nodeId} in nanoseconds, 0 for the local node, {@link #UNKNOWN} if never measured. */
  long rttNanos(String nodeId);

  /** False if the peer's keepalives went unanswered and it has not answered since. */
  boolean isPeerUp(String nodeId);

  /**
   * True while the translator's passive health checks keep the instance out of new-flow selection
   * (see the class comment); it comes back by itself when its back-off ends. The default, false,
   * ejects nothing.
   */
  default boolean isEjected(InstanceKey instance) {
    return false;
  }

  /** Flows this node currently has open to the instance. */
  int activeFlows(InstanceKey instance);

  /** EWMA of TCP set-up latency to the instance in nanoseconds, or {@link #UNKNOWN}. */
  long setupLatencyNanos(InstanceKey instance);

  /**
   * A number that increases (never to {@link #UNVERSIONED}) whenever a peer's RTT or up/down state
   * changes, a peer is forgotten, an instance is ejected or comes back, or a handle returned by {@link #instanceStats} goes stale; see
   * the class comment. The default, {@link #UNVERSIONED}, promises nothing.
   */
  default long version() {
    return UNVERSIONED;
  }

  /**
   * A handle that reads the instance's flow count and set-up latency without a lookup, for
   * policies that read them per choice. It keeps reflecting the instance's measurements while
   * {@link #version()} is unchanged; after a change, ask again. May allocate: call it when deriving
   * state, not per choice. The default reads through {@link #activeFlows} and
   * {@link #setupLatencyNanos}.
   */
  default InstanceStats instanceStats(InstanceKey instance) {
    return new InstanceStats() {
      @Override
      public int activeFlows() {
        return NodeView.this.activeFlows(instance);
      }

      @Override
      public long setupLatencyNanos() {
        return NodeView.this.setupLatencyNanos(instance);
      }
    };
  }

  /** True if the instance is placed, its node is not marked down and it is not {@linkplain #isEjected ejected}. */
  default boolean isAvailable(InstanceRecord instance) {
    return instance.locator() != null && isPeerUp(instance.locator().worker().nodeId()) && !isEjected(instance.key());
  }

  /** RTT to the node hosting {@code instance}, or {@link #UNKNOWN}. */
  default long rttNanos(InstanceRecord instance) {
    return instance.locator() == null ? UNKNOWN : rttNanos(instance.locator().worker().nodeId());
  }

  /**
   * Live per-flow measurements of one instance (see {@link #instanceStats}). Reads are lock-free
   * and allocation-free.
   */
  interface InstanceStats {
    /** Flows this node currently has open to the instance. */
    int activeFlows();

    /** EWMA of TCP set-up latency to the instance in nanoseconds, or {@link #UNKNOWN}. */
    long setupLatencyNanos();
  }
}
