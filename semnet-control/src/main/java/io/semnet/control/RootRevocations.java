package io.semnet.control;

import io.semnet.control.store.RootEvent;
import io.semnet.core.trust.NodeCertificate;
import io.semnet.core.trust.RevokedCertificate;
import io.semnet.resolver.protocol.SignedRevocations;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The root's certificate revocation list. Deregistering a node revokes its certificate (and with
 * it every earlier one of the node, {@link RevokedCertificate#revokes}); each change is a new
 * version stamped from the root's one version counter, written to the {@link
 * io.semnet.control.store.RootStore} before it is signed and pushed to every manager and worker.
 * Entries whose certificate has expired are dropped at the next change (an expired certificate is
 * refused anyway), so the list holds only certificates that would otherwise still be valid. Guarded
 * by {@link RootOrchestration}'s lock.
 */
final class RootRevocations {
  private final RootOrchestration o;
  private SignedRevocations current = SignedRevocations.NONE;
  private final List<java.util.function.Consumer<SignedRevocations>> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

  RootRevocations(RootOrchestration o) {
    this.o = o;
  }

  /** After a restart: re-signs the stored list (not published: managers send it after every hello). */
  void restore(RootEvent.RevocationsPut stored) {
    current = stored.version() == 0 ? SignedRevocations.NONE : SignedRevocations.sign(stored.version(), stored.revoked(), o.authority);
  }

  SignedRevocations current() {
    synchronized (o) {
      return current;
    }
  }

  /** Tells {@code listener} the current list now and every new one after it is published. */
  void listen(java.util.function.Consumer<SignedRevocations> listener) {
    synchronized (o) {
      listeners.add(listener);
      listener.accept(current);
    }
  }

  /** True if {@code key} of {@code nodeId} was vouched for by a revoked certificate (the root does not certify it again). */
  boolean isRevokedKey(String nodeId, byte[] key) {
    synchronized (o) {
      return current.revoked().stream().anyMatch(r -> r.nodeId().equals(nodeId) && r.hasPublicKey(key));
    }
  }

  /** Revokes {@code certificate} (and the node's earlier ones): journals, signs and publishes a new list. */
  void revoke(NodeCertificate certificate) {
    synchronized (o) {
      Instant now = o.clock.instant();
      List<RevokedCertificate> next = new ArrayList<>();
      for (RevokedCertificate r : current.revoked()) {
        if (r.notAfter().isAfter(now)) {
          next.add(r);
        }
      }
      next.add(RevokedCertificate.of(certificate));
      long v = ++o.version;
      o.store.append(new RootEvent.RevocationsPut(v, next));
      current = SignedRevocations.sign(v, next, o.authority);
      o.manager.applyRevocations(current);
      for (java.util.function.Consumer<SignedRevocations> l : listeners) {
        l.accept(current);
      }
    }
  }
}
