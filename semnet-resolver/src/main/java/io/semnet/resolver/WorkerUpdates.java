package io.semnet.resolver;

import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.Route;
import io.semnet.core.route.RouteListener;
import io.semnet.core.service.ServiceId;
import io.semnet.resolver.protocol.AvailabilityPush;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.HeartbeatPush;
import io.semnet.resolver.protocol.HelloReply;
import io.semnet.resolver.protocol.RecordPush;
import io.semnet.resolver.protocol.RemovalPush;
import io.semnet.resolver.protocol.RevocationsPush;
import io.semnet.resolver.protocol.RulesPush;
import io.semnet.resolver.protocol.SignedHeartbeat;
import io.semnet.resolver.protocol.SignedRecord;
import io.semnet.resolver.protocol.SignedRemoval;
import io.semnet.resolver.protocol.SignedRevocations;
import io.semnet.resolver.protocol.SignedRules;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link WorkerResolver}'s updates: pushed and answered records, root-signed removals, isolation
 * rules, revocation lists and root heartbeats, each verified, checked against the node's version floors (refusals
 * counted) and applied in version order, with every applied change told to the route listeners.
 * Works on the resolver's state; holds none itself.
 */
final class WorkerUpdates {
  private static final Logger log = LoggerFactory.getLogger(WorkerResolver.class);

  private final WorkerResolver w;

  WorkerUpdates(WorkerResolver w) {
    this.w = w;
  }

  /** Applies a verified record if newer than the held one; updates every route of the service. */
  void applyRecord(WorkerResolver.Entry e, SignedRecord sr) {
    synchronized (e) {
      ServiceId sid = sr.record().service();
      SignedRecord prev = e.record;
      if (prev != null && prev.record().version() > sr.record().version()) {
        w.stale.increment();
        return;
      }
      if (sr.record().version() < w.floors.floor(sid)) {
        w.rollbacks.increment();
        log.warn("resolver {}: refused {} v{}: older than the known version {}", w.nodeId, sid, sr.record().version(),
            w.floors.floor(sid));
        return;
      }
      if (prev != null && prev.record().version() == sr.record().version()) {
        // Two prunings of one signed version (e.g. an InstanceIP outside the k best was asked for):
        // keep the union, which the same signature covers.
        Map<Integer, InstanceRecord> union = new java.util.TreeMap<>();
        prev.record().instances().forEach(i -> union.put(i.ordinal(), i));
        int before = union.size();
        sr.record().instances().forEach(i -> union.putIfAbsent(i.ordinal(), i));
        if (union.size() == before) {
          return;
        }
        SignedRecord merged = prev.pruned(new ArrayList<>(union.values()));
        for (Object key : List.copyOf(e.keys)) {
          Route r = WorkerQueries.routeFor(key, merged.record());
          if (r != null) {
            w.routes.asMap().computeIfPresent(key, (k, old) -> r);
          }
        }
        e.record = merged;
        return;
      }
      if (!w.floors.raise(sid, sr.record().version())) {
        w.rollbacks.increment();
        log.warn("resolver {}: refused {}: no room for another version floor", w.nodeId, sid);
        return;
      }
      w.applied.increment();
      // Routes first, then the record: whoever sees the new record also finds the new routes.
      for (Object key : List.copyOf(e.keys)) {
        Route r = WorkerQueries.routeFor(key, sr.record());
        if (r == null) {
          e.keys.remove(key);
          w.routes.invalidate(key);
        } else {
          w.routes.asMap().computeIfPresent(key, (k, old) -> r);
        }
      }
      e.record = sr;
      ServiceRecord before = prev == null ? null : prev.record();
      for (RouteListener l : w.listeners) {
        try {
          l.onRecordUpdated(before, sr.record());
        } catch (RuntimeException ex) {
          log.warn("resolver {}: route listener failed", w.nodeId, ex);
        }
      }
    }
  }

  void applyRemoval(SignedRemoval removal) {
    if (!removal.isSigned()) {
      // A withdrawal nobody signed: it could be replayed or forged to make the node forget a route
      // (and, before floors, to reopen the door for an older record). Visibility changes reach the
      // node as signed rules instead (see applyRules).
      w.withdrawalsRefused.increment();
      log.debug("resolver {}: refused unsigned withdrawal of {}", w.nodeId, removal.service());
      return;
    }
    if (!w.verifier.verify(removal)) {
      w.rejected.increment();
      log.warn("resolver {}: rejected removal of {}: bad root signature", w.nodeId, removal.service());
      return;
    }
    ServiceId sid = removal.service();
    if (removal.version() < w.floors.floor(sid)) {
      w.rollbacks.increment();
      log.warn("resolver {}: refused removal of {} v{}: older than the known version {}", w.nodeId, sid, removal.version(),
          w.floors.floor(sid));
      return;
    }
    w.floors.raise(sid, removal.version() + 1);
    forget(sid);
  }

  /** Drops every route of {@code sid} (floors untouched) and tells the listeners. */
  private void forget(ServiceId sid) {
    WorkerResolver.Entry e = w.services.get(sid);
    if (e == null) {
      return;
    }
    synchronized (e) {
      w.services.remove(sid, e);
      for (Object key : List.copyOf(e.keys)) {
        w.routes.invalidate(key);
      }
      e.keys.clear();
      for (RouteListener l : w.listeners) {
        try {
          l.onServiceRemoved(sid);
        } catch (RuntimeException ex) {
          log.warn("resolver {}: route listener failed", w.nodeId, ex);
        }
      }
    }
  }

  private void applyRules(SignedRules r) {
    if (r.version() == w.rules.version()) {
      return; // the rules held (every hello reply carries them again)
    }
    if (r.version() < w.rules.version() || r.version() < w.floors.rulesFloor()) {
      w.rollbacks.increment();
      log.warn("resolver {}: refused isolation rules v{}: older than the known version {}", w.nodeId, r.version(),
          Math.max(w.rules.version(), w.floors.rulesFloor()));
      return;
    }
    if (!w.verifier.verify(r)) {
      w.rejected.increment();
      log.warn("resolver {}: rejected isolation rules v{}: bad or missing root signature", w.nodeId, r.version());
      return;
    }
    List<io.semnet.core.isolation.Grant> revoked;
    synchronized (w) {
      if (r.version() <= w.rules.version()) {
        return;
      }
      revoked = new ArrayList<>(w.rules.rules().grants());
      revoked.removeAll(r.rules().grants());
      w.rules = r;
      w.floors.raiseRules(r.version());
    }
    // A revoked grant may have been what made a held service visible: forget the services it
    // covered (their floors stay); the node asks again if it still needs one, and the manager
    // answers under the new rules. This replaces the managers' unsigned withdrawals.
    for (ServiceId sid : List.copyOf(w.services.keySet())) {
      for (io.semnet.core.isolation.Grant g : revoked) {
        if (g.to().matches(sid)) {
          forget(sid);
          break;
        }
      }
    }
  }

  /**
   * Takes a root-signed revocation list: refused (and counted) if older than the one held or the
   * persisted floor, or not signed by the root; otherwise held, the floor raised, and the
   * revocation listeners told (the node's tunnel closes the revoked peers' links).
   */
  void applyRevocations(SignedRevocations r) {
    if (r.version() == w.revocations.version()) {
      return; // the list held (every hello is followed by it again)
    }
    if (r.version() < w.revocations.version() || r.version() < w.floors.revocationsFloor()) {
      w.rollbacks.increment();
      log.warn("resolver {}: refused revocation list v{}: older than the known version {}", w.nodeId, r.version(),
          Math.max(w.revocations.version(), w.floors.revocationsFloor()));
      return;
    }
    if (!r.verify(w.verifier.trust())) {
      w.rejected.increment();
      log.warn("resolver {}: rejected revocation list v{}: bad or missing root signature", w.nodeId, r.version());
      return;
    }
    synchronized (w.revocationListeners) {
      if (r.version() <= w.revocations.version()) {
        return;
      }
      w.revocations = r;
      w.floors.raiseRevocations(r.version());
      log.info("resolver {}: revocation list v{}: {} certificates revoked", w.nodeId, r.version(), r.revoked().size());
      for (java.util.function.Consumer<List<io.semnet.core.trust.RevokedCertificate>> l : w.revocationListeners) {
        try {
          l.accept(r.revoked());
        } catch (RuntimeException ex) {
          log.warn("resolver {}: revocation listener failed", w.nodeId, ex);
        }
      }
    }
  }

  /**
   * Takes a root heartbeat: refused (and counted) unless the root signed it, it has not expired and
   * it is newer than the one held; otherwise raises the version floors to what it vouches for and,
   * if a held record is older than that, catches up at the next maintenance round.
   */
  void applyHeartbeat(SignedHeartbeat h) {
    if (!h.verify(w.verifier.trust())) {
      w.rejected.increment();
      log.warn("resolver {}: rejected heartbeat: bad or missing root signature", w.nodeId);
      return;
    }
    if (!w.floors.isNewerHeartbeat(h.epoch(), h.issuedAtMillis())) {
      if (h.epoch() != w.floors.epoch() || h.issuedAtMillis() != w.floors.heartbeatIssuedAt()) {
        w.staleHeartbeats.increment(); // older than the one held (a replay of the same one is a no-op)
      }
      return;
    }
    if (w.clock.millis() > h.expiresAtMillis()) {
      w.staleHeartbeats.increment();
      log.warn("resolver {}: refused heartbeat of epoch {}: expired at {}", w.nodeId, h.epoch(), h.expiresAtMillis());
      return;
    }
    w.floors.acceptHeartbeat(h.epoch(), h.issuedAtMillis());
    w.floors.raiseRules(h.rulesVersion());
    boolean behind = w.rules.version() < h.rulesVersion();
    for (Map.Entry<ServiceId, Long> v : h.versions().entrySet()) {
      w.floors.raise(v.getKey(), v.getValue());
      WorkerResolver.Entry e = w.services.get(v.getKey());
      SignedRecord held = e == null ? null : e.record;
      if (held != null && held.record().version() < v.getValue()) {
        behind = true;
      }
    }
    if (behind) {
      w.needResync = true; // the next maintenance round renews everything held and greets again
    }
  }

  void onHello(HelloReply h) {
    if (h.heartbeat() != null) {
      applyHeartbeat(h.heartbeat());
    }
    applyRules(h.rules());
  }

  /**
   * A manager's availability hint: the node's instances leave (or rejoin) new-flow selection here,
   * through the same peer state the tunnel's probes set (a probe answered later marks it up again).
   * Never touches records, locators or floors.
   */
  private void applyAvailability(AvailabilityPush a) {
    io.semnet.core.policy.LocalNodeView v = w.view;
    if (v == null || a.nodeId().equals(w.nodeId())) {
      return;
    }
    v.setPeerUp(a.nodeId(), a.available());
    log.info("resolver {}: node {} {} (availability hint)", w.nodeId(), a.nodeId(), a.available() ? "available" : "unavailable");
  }

  void onPush(ControlMessage m) {
    if (m instanceof RecordPush) {
      SignedRecord sr = ((RecordPush) m).record();
      WorkerResolver.Entry e = w.services.get(sr.record().service());
      if (e == null) {
        return; // forgotten meanwhile; its interest will lapse
      }
      if (!w.verifier.verify(sr)) {
        w.rejected.increment();
        log.warn("resolver {}: rejected pushed record of {}: bad or missing root signature", w.nodeId, sr.record().service());
        return;
      }
      applyRecord(e, sr);
    } else if (m instanceof RemovalPush) {
      applyRemoval(((RemovalPush) m).removal());
    } else if (m instanceof RulesPush) {
      applyRules(((RulesPush) m).rules());
    } else if (m instanceof RevocationsPush) {
      applyRevocations(((RevocationsPush) m).revocations());
    } else if (m instanceof HeartbeatPush) {
      applyHeartbeat(((HeartbeatPush) m).heartbeat());
    } else if (m instanceof AvailabilityPush) {
      applyAvailability((AvailabilityPush) m);
    } else {
      log.warn("resolver {}: ignoring unexpected push '{}'", w.nodeId, m.type());
    }
  }
}
