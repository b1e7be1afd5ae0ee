package io.semnet.control;

import io.semnet.control.internal.Pruner;
import io.semnet.core.isolation.IsolationRules;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.resolver.protocol.RecordPush;
import io.semnet.resolver.protocol.RemovalPush;
import io.semnet.resolver.protocol.Role;
import io.semnet.resolver.protocol.RevocationsPush;
import io.semnet.resolver.protocol.RulesPush;
import io.semnet.resolver.protocol.SignedRecord;
import io.semnet.resolver.protocol.SignedRemoval;
import io.semnet.resolver.protocol.SignedRevocations;
import io.semnet.resolver.protocol.SignedRules;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ServiceManager}'s visibility and publishing: which clients may see a service (namespace
 * isolation), what a worker's answer keeps (k-pruning), and how a committed record, removal or rule
 * set is taken and pushed to every interested client that may see it. It is the
 * {@link RecordPublisher} the root's {@link Orchestration} publishes through. Works on the
 * manager's state under the manager's lock; holds none itself.
 */
final class ManagerPublishing implements RecordPublisher {
  private static final Logger log = LoggerFactory.getLogger(ServiceManager.class);

  private final ServiceManager sm;
  private final Pruner pruner;

  ManagerPublishing(ServiceManager sm, Pruner pruner) {
    this.sm = sm;
    this.pruner = pruner;
  }

  @Override
  public String id() {
    return sm.id;
  }

  // ---------------------------------------------------------------- visibility and pruning

  private Set<String> nodesOf(String clientId) {
    ServiceManager.ClientInfo c = sm.clients.get(clientId);
    if (c != null && c.role == Role.CLUSTER) {
      return sm.orchestration != null ? sm.orchestration.nodesOfCluster(clientId) : Set.of();
    }
    return Set.of(clientId);
  }

  boolean hostsAnything(String clientId) {
    for (String n : nodesOf(clientId)) {
      Set<ServiceId> s = sm.records.servicesOn(n);
      if (s != null && !s.isEmpty()) {
        return true;
      }
    }
    return false;
  }

  /**
   * True if some service hosted behind the client may reach {@code target}, or {@code target} may
   * reach one of them: a node must verify the sources of packets its instances receive (cryptokey
   * routing looks the sender's InstanceIP up), so the records of services allowed to send to its
   * instances are visible to it too.
   */
  boolean visible(String clientId, ServiceId target) {
    IsolationRules r = sm.rules.rules();
    for (String n : nodesOf(clientId)) {
      Set<ServiceId> hosted = sm.records.servicesOn(n);
      if (hosted == null) {
        continue;
      }
      for (ServiceId s : hosted) {
        if (r.mayReach(s, target) || r.mayReach(target, s)) {
          return true;
        }
      }
    }
    return false;
  }

  SignedRecord pruneFor(String clientId, SignedRecord sr, int mustKeep) {
    ServiceManager.ClientInfo c = sm.clients.get(clientId);
    if (c == null || c.role != Role.WORKER) {
      return sr;
    }
    return pruner.prune(sr, clientId, c.location, mustKeep, sm.interests.ordinals(sr.record().service(), clientId));
  }

  // ---------------------------------------------------------------- applying and publishing

  /**
   * Takes a record (the root: one it just stamped; a cluster: one verified from upstream) if it is
   * newer than the held one, and pushes it to every interested client that may see it.
   */
  @Override
  public void applyRecord(SignedRecord sr) {
    ServiceId sid = sr.record().service();
    Set<String> targets;
    SignedRecord old;
    synchronized (sm.lock) {
      old = sm.records.get(sid);
      if (old != null && old.record().version() >= sr.record().version()) {
        return;
      }
      sm.records.put(old, sr);
      targets = pushTargets(sid);
    }
    for (String c : targets) {
      if (visible(c, sid) || hosted(c, old)) {
        sm.binding.push(c, new RecordPush(pruneFor(c, sr, -1)));
      }
    }
  }

  /**
   * True if an instance of the record was placed on a node of the client: the node an instance
   * just moved away from must learn where it went (it forwards the instance's late packets there),
   * even if nothing left on it may reach the service.
   */
  private boolean hosted(String clientId, SignedRecord previous) {
    if (previous == null) {
      return false;
    }
    Set<String> nodes = nodesOf(clientId);
    for (InstanceRecord i : previous.record().instances()) {
      if (i.locator() != null && nodes.contains(i.locator().worker().nodeId())) {
        return true;
      }
    }
    return false;
  }

  /** Removes a service and tells every client that knew it. */
  @Override
  public void applyRemoval(SignedRemoval removal) {
    ServiceId sid = removal.service();
    Set<String> targets;
    synchronized (sm.lock) {
      SignedRecord old = sm.records.get(sid);
      if (old == null || old.record().version() > removal.version()) {
        return;
      }
      targets = pushTargets(sid);
      sm.records.remove(sid);
      sm.interests.removeService(sid);
      sm.upstreamInterests.remove(sid);
    }
    sm.heartbeats.removed(sid, removal.version());
    for (String c : targets) {
      sm.binding.push(c, new RemovalPush(removal));
    }
  }

  /** Takes new isolation rules, forwards them to every client and withdraws what became invisible. */
  @Override
  public void applyRules(SignedRules r) {
    if (r.version() <= sm.rules.version() && sm.rules.signature() != null) {
      return;
    }
    if (sm.authority == null && !sm.verifier.verify(r)) {
      log.warn("manager {}: ignoring isolation rules without a valid root signature", sm.id);
      return;
    }
    List<Map.Entry<String, ServiceId>> withdrawn = new ArrayList<>();
    synchronized (sm.lock) {
      if (r.version() <= sm.rules.version()) {
        return;
      }
      sm.rules = r;
      sm.interests.withdrawIf((c, sid) -> !visible(c, sid), withdrawn);
    }
    for (String c : sm.clients.keySet()) {
      sm.binding.push(c, new RulesPush(r));
    }
    for (Map.Entry<String, ServiceId> w : withdrawn) {
      SignedRecord sr = sm.records.get(w.getValue());
      sm.binding.push(w.getKey(), new RemovalPush(SignedRemoval.withdrawn(w.getValue(), sr == null ? 0 : sr.record().version())));
    }
  }

  /**
   * Takes a newer root-signed revocation list (a cluster manager checks the signature) and pushes it
   * to every client; older or equal versions are ignored.
   */
  @Override
  public void applyRevocations(SignedRevocations r) {
    if (sm.authority == null && !r.verify(sm.verifier.trust())) {
      log.warn("manager {}: ignoring a revocation list without a valid root signature", sm.id);
      return;
    }
    synchronized (sm.lock) {
      if (r.version() <= sm.revocations.version()) {
        return;
      }
      sm.revocations = r;
    }
    for (String c : sm.clients.keySet()) {
      sm.binding.push(c, new RevocationsPush(r));
    }
  }

  /** Clients to push a change of {@code sid} to: live interests, plus (root) clusters hosting it. */
  private Set<String> pushTargets(ServiceId sid) {
    Set<String> out = new HashSet<>(sm.interestedClients(sid));
    if (sm.orchestration != null) {
      SignedRecord sr = sm.records.get(sid);
      if (sr != null) {
        for (InstanceRecord i : sr.record().instances()) {
          if (i.locator() != null) {
            String cluster = sm.orchestration.clusterOfNode(i.locator().worker().nodeId());
            if (cluster != null && sm.clients.containsKey(cluster)) {
              out.add(cluster);
            }
          }
        }
      }
    }
    return out;
  }
}
