package io.semnet.tunnel.internal.handshake;

import io.semnet.core.trust.NodeCertificate;
import io.semnet.core.trust.RevokedCertificate;
import io.semnet.tunnel.internal.link.Link;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What the tunnel refuses: revoked node ids and the root's revoked certificates (by serial, with
 * each one's node id and key). Replaced whole by the control plane; read by the handshake on the
 * event loop (one volatile snapshot, no lock). Thread-safe.
 */
public final class Revocations {
  private record Snapshot(Set<String> nodeIds, Set<Long> serials, List<RevokedCertificate> certificates) {}

  private volatile Snapshot snapshot = new Snapshot(Set.of(), Set.of(), List.of());

  /** Replaces the revoked node ids. */
  public synchronized void nodeIds(Set<String> nodeIds) {
    Snapshot s = snapshot;
    snapshot = new Snapshot(Set.copyOf(nodeIds), s.serials, s.certificates);
  }

  /** Replaces the revoked certificates. */
  public synchronized void certificates(Collection<RevokedCertificate> list) {
    Set<Long> serials = new HashSet<>();
    for (RevokedCertificate r : list) {
      serials.add(r.serial());
    }
    snapshot = new Snapshot(snapshot.nodeIds, Set.copyOf(serials), List.copyOf(list));
  }

  /** True if an initiation presenting {@code cert} must be refused. */
  boolean refuses(NodeCertificate cert) {
    Snapshot s = snapshot;
    return s.nodeIds.contains(cert.nodeId()) || s.serials.contains(cert.serial());
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
      return s.serials.contains(link.certificate.serial());
    }
    for (RevokedCertificate r : s.certificates) {
      if (r.nodeId().equals(link.nodeId) && r.hasPublicKey(link.peerPublicKey)) {
        return true;
      }
    }
    return false;
  }
}
