package io.semnet.core.policy;

import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceKey;
import io.semnet.core.record.InstanceRecord;

/**
 * What a node knows locally when a routing policy chooses an instance: RTT to peer nodes (measured
 * by the tunnel's keepalives), which peers are down, active flows per instance and the observed
 * connection set-up latency per instance (measured by the translator from TCP handshakes).
 *
 * <p>All reads are lock-free and allocation-free, so policies can call them on the data path.
 */
public interface NodeView {
  /** Value returned for a measurement that has not been made. */
  long UNKNOWN = -1;

  /** This node's id; instances on it have RTT 0. */
  String localNodeId();

  /** This node's location, or null if not configured. */
  GeoPoint localLocation();

  /** Smoothed RTT to {@code nodeId} in nanoseconds, 0 for the local node, {@link #UNKNOWN} if never measured. */
  long rttNanos(String nodeId);

  /** False if the peer's keepalives went unanswered and it has not answered since. */
  boolean isPeerUp(String nodeId);

  /** Flows this node currently has open to the instance. */
  int activeFlows(InstanceKey instance);

  /** EWMA of TCP set-up latency to the instance in nanoseconds, or {@link #UNKNOWN}. */
  long setupLatencyNanos(InstanceKey instance);

  /** True if the instance is placed and its node is not marked down. */
  default boolean isAvailable(InstanceRecord instance) {
    return instance.locator() != null && isPeerUp(instance.locator().worker().nodeId());
  }

  /** RTT to the node hosting {@code instance}, or {@link #UNKNOWN}. */
  default long rttNanos(InstanceRecord instance) {
    return instance.locator() == null ? UNKNOWN : rttNanos(instance.locator().worker().nodeId());
  }
}
