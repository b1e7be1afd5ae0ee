package io.semnet.tunnel.internal.handshake;

import io.semnet.core.trust.NodeCertificate;
import io.semnet.core.trust.RevokedCertificate;
import io.semnet.tunnel.internal.link.Link;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the tunnel refuses: revoked node ids and the root's revoked certificates (a node's
 * certificates up to a serial, {@link RevokedCertificate#revokes}, and the node id and key each vouched for). Replaced whole by the control plane; read by the handshake on the
 * event loop (one volatile snapshot, no lock). Thread-safe.
 */
public final class Revocations {
  /** {@code upTo}: per node id, the greatest revoked serial (that certificate and every earlier one of the node are revoked). */
  private record Snapshot(Set<String> nodeIds, Map<String, Long> upTo, List<RevokedCertificate> certificates) {
    boolean revokes(NodeCertificate cert) {
      Long max = upTo.get(cert.nodeId());
      return max != null && cert.serial() <= max;
    }
  }

  private volatile Snapshot snapshot = new Snapshot(Set.of(), Map.of(), List.of());

  /** Replaces the revoked node ids. */
  public synchronized void nodeIds(Set<String> nodeIds) {
    Snapshot s = snapshot;
    snapshot = new Snapshot(Set.copyOf(nodeIds), s.upTo, s.certificates);
  }

  /** Replaces the revoked certificates. */
  public synchronized void certificates(Collection<RevokedCertificate> list) {
    Map<String, Long> upTo = new HashMap<>();
    for (RevokedCertificate r : list) {
      upTo.merge(r.nodeId(), r.serial(), Math::max);
    }
    snapshot = new Snapshot(snapshot.nodeIds, Map.copyOf(upTo), List.copyOf(list));
  }

  /** True if an initiation presenting {@code cert} must be refused. */
  boolean refuses(NodeCertificate cert) {
    Snapshot s = snapshot;
    return s.nodeIds.contains(cert.nodeId()) || s.revokes(cert);
  }

  /**
   * True if {@code link} must not live: its peer's node id is revoked, the certificate it proved is
   * revoked, or (a link this node opened, whose peer certificate it never saw) a revoked certificate
   * vouched for the peer's key under its node id.
   */
  public boolean refuses(Link link) {
    Snapshot s = snapshot;
    if (s.nodeIds.contains(link.nodeId)) {
      return true;
    }
    if (link.certificate != null) {
      return s.revokes(link.certificate);
    }
    for (RevokedCertificate r : s.certificates) {
      if (r.nodeId().equals(link.nodeId) && r.hasPublicKey(link.peerPublicKey)) {
        return true;
      }
    }
    return false;
  }
}
