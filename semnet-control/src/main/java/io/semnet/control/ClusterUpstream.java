package io.semnet.control;

import io.semnet.core.record.InstanceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.Drop;
import io.semnet.resolver.protocol.RecordPush;
import io.semnet.resolver.protocol.RemovalPush;
import io.semnet.resolver.protocol.Renew;
import io.semnet.resolver.protocol.RenewReply;
import io.semnet.resolver.protocol.RulesPush;
import io.semnet.resolver.protocol.ServiceVersion;
import io.semnet.resolver.protocol.SignedRecord;
import io.semnet.resolver.protocol.SignedRemoval;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cluster {@link ServiceManager}'s side towards its upstream: takes pushed records, removals and
 * rules (only with a valid root signature), and in each maintenance round renews the interests
 * the cluster still needs (a worker uses the service, or it is deployed here), drops the others
 * and forgets their records. Works on the manager's state; holds none itself.
 */
final class ClusterUpstream {
  private static final Logger log = LoggerFactory.getLogger(ServiceManager.class);

  private final ServiceManager sm;

  ClusterUpstream(ServiceManager sm) {
    this.sm = sm;
  }

  private static final long MIN_RESYNC_NANOS = TimeUnit.SECONDS.toNanos(1);
  private long lastResync = System.nanoTime() - MIN_RESYNC_NANOS;
  private boolean resyncWanted;

  /**
   * A worker greeted this cluster hosting nothing it knows of: the records deployed on it may have
   * been dropped before it connected (a cluster keeps deployment records only for connected nodes).
   * Greets the root again, which pushes every record deployed in this cluster; at most once a
   * second (later calls are folded into one at the next maintenance).
   */
  void resyncDeployment() {
    synchronized (this) {
      long now = System.nanoTime();
      if (now - lastResync < MIN_RESYNC_NANOS) {
        resyncWanted = true;
        return;
      }
      lastResync = now;
      resyncWanted = false;
    }
    sm.upstream.hello();
  }

  /** True if an instance of the service is placed on a node of this cluster (deployment interest). */
  private boolean deployedHere(SignedRecord sr) {
    for (InstanceRecord i : sr.record().instances()) {
      if (i.locator() != null && sm.clients.containsKey(i.locator().worker().nodeId())) {
        return true;
      }
    }
    return false;
  }

  void onUpstreamPush(ControlMessage m) {
    if (m instanceof RecordPush) {
      SignedRecord sr = ((RecordPush) m).record();
      if (!sm.verifier.verify(sr)) {
        log.warn("manager {}: rejected pushed record of {}: bad or missing root signature", sm.id, sr.record().service());
        return;
      }
      sm.applyRecord(sr);
    } else if (m instanceof RemovalPush) {
      SignedRemoval r = ((RemovalPush) m).removal();
      if (r.isSigned() && !sm.verifier.verify(r)) {
        log.warn("manager {}: rejected removal of {}: bad root signature", sm.id, r.service());
        return;
      }
      sm.applyRemoval(r);
    } else if (m instanceof RulesPush) {
      sm.applyRules(((RulesPush) m).rules());
    } else if (m instanceof io.semnet.resolver.protocol.RevocationsPush) {
      sm.applyRevocations(((io.semnet.resolver.protocol.RevocationsPush) m).revocations());
    } else if (m instanceof io.semnet.resolver.protocol.AvailabilityPush) {
      return; // a cluster watches liveness on its own transport and hints its workers itself
    } else if (m instanceof io.semnet.resolver.protocol.HeartbeatPush) {
      sm.heartbeats.take(((io.semnet.resolver.protocol.HeartbeatPush) m).heartbeat());
    } else {
      log.warn("manager {}: ignoring unexpected push '{}'", sm.id, m.type());
    }
  }

  /**
   * Renews upstream interests in services some worker still uses or that are deployed in this
   * cluster, drops the rest and forgets their records, and takes what the renewal brings.
   */
  void renewUpstream() {
    boolean resync;
    synchronized (this) {
      resync = resyncWanted;
    }
    if (resync) {
      resyncDeployment();
    }
    List<ServiceVersion> keep = new ArrayList<>();
    List<ServiceId> drop = new ArrayList<>();
    Set<ServiceId> candidates = new HashSet<>(sm.upstreamInterests);
    candidates.addAll(sm.records.services());
    for (ServiceId sid : candidates) {
      SignedRecord sr = sm.records.get(sid);
      boolean used = sm.interests.has(sid) || (sr != null && deployedHere(sr));
      if (used) {
        keep.add(new ServiceVersion(sid, sr == null ? 0 : sr.record().version()));
      } else {
        drop.add(sid);
      }
    }
    for (ServiceId sid : drop) {
      synchronized (sm.lock) {
        if (!sm.interests.has(sid)) {
          sm.records.remove(sid);
          sm.upstreamInterests.remove(sid);
        }
      }
    }
    if (!drop.isEmpty()) {
      try {
        sm.upstream.request(new Drop(drop)).toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.debug("manager {}: drop upstream failed (the interest will expire there): {}", sm.id, e.toString());
      }
    }
    CompletionStage<?> renewal = sm.upstream.request(new Renew(keep)).thenAccept(reply -> {
      if (!(reply instanceof RenewReply)) {
        return;
      }
      RenewReply rr = (RenewReply) reply;
      for (SignedRecord sr : rr.newer()) {
        if (sm.verifier.verify(sr)) {
          sm.applyRecord(sr);
        } else {
          log.warn("manager {}: renewal brought a record of {} without a valid signature", sm.id, sr.record().service());
        }
      }
      for (SignedRemoval r : rr.gone()) {
        if (!r.isSigned() || sm.verifier.verify(r)) {
          sm.applyRemoval(r);
        }
      }
      for (ServiceVersion sv : keep) {
        SignedRecord sr = sm.records.get(sv.service());
        if (sm.interests.has(sv.service()) || (sr != null && deployedHere(sr))) {
          sm.upstreamInterests.add(sv.service());
        }
      }
    });
    try {
      renewal.toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.debug("manager {}: upstream renewal failed: {}", sm.id, e.toString());
    }
  }
}
