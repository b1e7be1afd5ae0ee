package io.semnet.control;

import io.semnet.control.internal.ClientLimiter;
import io.semnet.control.internal.RecordIndex;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.resolver.protocol.Ack;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.Drop;
import io.semnet.resolver.protocol.ErrorReply;
import io.semnet.resolver.protocol.Hello;
import io.semnet.resolver.protocol.HelloReply;
import io.semnet.resolver.protocol.Query;
import io.semnet.resolver.protocol.QueryKey;
import io.semnet.resolver.protocol.QueryReply;
import io.semnet.resolver.protocol.RecordPush;
import io.semnet.resolver.protocol.Renew;
import io.semnet.resolver.protocol.RenewReply;
import io.semnet.resolver.protocol.Role;
import io.semnet.resolver.protocol.ServiceVersion;
import io.semnet.resolver.protocol.SignedRecord;
import io.semnet.resolver.protocol.SignedRemoval;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ServiceManager}'s answers to its clients' requests: hello (with deployment interest for
 * a cluster), fast resolution with interest registration (asking upstream on a miss), renewal and
 * dropping of interests. Every answer is pruned for its client and never shows a service the
 * client may not see. Works on the manager's state under the manager's lock; holds none itself.
 */
final class ManagerRequests {
  private static final Logger log = LoggerFactory.getLogger(ServiceManager.class);

  private final ServiceManager sm;

  ManagerRequests(ServiceManager sm) {
    this.sm = sm;
  }

  CompletionStage<ControlMessage> onRequest(String clientId, ControlMessage m) {
    ClientLimiter.Admission a = sm.limiter.admit(clientId);
    if (a != ClientLimiter.Admission.ADMITTED) {
      String code = a == ClientLimiter.Admission.RATE_LIMITED ? ErrorReply.RATE_LIMITED : ErrorReply.TOO_MANY_OUTSTANDING;
      sm.limiter.count(code);
      return done(new ErrorReply(code, a == ClientLimiter.Admission.RATE_LIMITED
          ? "more than " + sm.limits.requestsPerSecond() + " requests/s (burst " + sm.limits.burst() + ")"
          : "more than " + sm.limits.maxOutstanding() + " requests in progress"));
    }
    CompletionStage<ControlMessage> reply = handle(clientId, m);
    reply.whenComplete((r, e) -> sm.limiter.done(clientId));
    return reply;
  }

  private CompletionStage<ControlMessage> handle(String clientId, ControlMessage m) {
    try {
      if (m instanceof Hello) {
        Hello h = (Hello) m;
        if (!h.nodeId().equals(clientId)) {
          return done(new ErrorReply("hello names '" + h.nodeId() + "' but the transport authenticated '" + clientId + "'"));
        }
        sm.clients.put(clientId, new ServiceManager.ClientInfo(h.role(), h.location()));
        sm.limiter.setCluster(clientId, h.role() == Role.CLUSTER);
        if (sm.upstream != null && h.role() == Role.WORKER && !sm.hostsAnything(clientId)) {
          sm.resyncDeployment();
        }
        HelloReply reply = new HelloReply(sm.rules, sm.heartbeats.current());
        if (sm.revocations.version() > 0) {
          sm.binding.push(clientId, new io.semnet.resolver.protocol.RevocationsPush(sm.revocations));
        }
        if (h.role() == Role.CLUSTER && sm.orchestration != null) {
          // Deployment interest: a (re)connecting cluster gets every service deployed in it.
          Set<String> nodes = sm.orchestration.nodesOfCluster(clientId);
          for (SignedRecord sr : sm.records.values()) {
            for (InstanceRecord i : sr.record().instances()) {
              if (i.locator() != null && nodes.contains(i.locator().worker().nodeId())) {
                sm.binding.push(clientId, new RecordPush(sr));
                break;
              }
            }
          }
        }
        return done(reply);
      }
      if (!sm.clients.containsKey(clientId)) {
        return done(new ErrorReply(ErrorReply.HELLO_REQUIRED));
      }
      if (m instanceof Query) {
        return query(clientId, (Query) m);
      }
      if (m instanceof Renew) {
        return renew(clientId, (Renew) m);
      }
      if (m instanceof Drop) {
        for (ServiceId s : ((Drop) m).services()) {
          sm.removeInterest(s, clientId);
        }
        return done(new Ack());
      }
      return done(new ErrorReply("unexpected request type '" + m.type() + "'"));
    } catch (RuntimeException e) {
      log.warn("manager {}: request {} from {} failed", sm.id, m.type(), clientId, e);
      return done(new ErrorReply("internal error: " + e.getMessage()));
    }
  }

  private static CompletionStage<ControlMessage> done(ControlMessage m) {
    return CompletableFuture.completedFuture(m);
  }

  private CompletionStage<ControlMessage> query(String clientId, Query q) {
    QueryKey key = q.key();
    ServiceId sid = sm.records.serviceOf(key);
    SignedRecord held = sid == null ? null : sm.records.get(sid);
    if (RecordIndex.answers(held, key)) {
      return done(answer(clientId, sid, key, q.register()));
    }
    if (sid != null && !sm.visible(clientId, sid)) {
      return done(QueryReply.notFound("no route for " + key));
    }
    if (sm.upstream == null) {
      return done(QueryReply.notFound("no route for " + key));
    }
    if (!sm.limiter.tryTake(clientId)) {
      sm.limiter.count(ErrorReply.RATE_LIMITED);
      return done(new ErrorReply(ErrorReply.RATE_LIMITED, "no token left to ask upstream for " + key));
    }
    // Holding the record means holding an interest (registered, or deployment interest kept by the
    // root): updates come anyway, so ask without registering again.
    boolean register = held == null;
    return sm.upstream.request(new Query(key, register)).handle((reply, e) -> {
      if (e != null) {
        return QueryReply.unavailable("upstream unreachable: " + e.getMessage());
      }
      if (!(reply instanceof QueryReply)) {
        return QueryReply.unavailable("upstream answered " + reply.type());
      }
      QueryReply r = (QueryReply) reply;
      if (r.status() != QueryReply.Status.FOUND) {
        return r;
      }
      if (!sm.verifier.verify(r.record())) {
        log.warn("manager {}: dropping record of {} with a bad root signature", sm.id, r.record().record().service());
        return QueryReply.unavailable("upstream sent a record without a valid root signature");
      }
      ServiceId got = r.record().record().service();
      if (register) {
        sm.upstreamInterests.add(got);
      }
      sm.applyRecord(r.record());
      SignedRecord now = sm.records.get(got);
      if (!RecordIndex.answers(now, key)) {
        return QueryReply.notFound("no route for " + key);
      }
      return answer(clientId, got, key, q.register());
    });
  }

  private ControlMessage answer(String clientId, ServiceId sid, QueryKey key, boolean register) {
    synchronized (sm.lock) {
      SignedRecord sr = sm.records.get(sid);
      if (sr == null || !sm.visible(clientId, sid)) {
        return QueryReply.notFound("no route for " + key);
      }
      int ordinal = RecordIndex.ordinalAsked(sr, key);
      if (register) {
        sm.interests.register(sid, clientId, sm.clock.millis() + sm.interestTtl.toMillis(), ordinal);
      }
      return QueryReply.found(sm.pruneFor(clientId, sr, ordinal));
    }
  }

  private CompletionStage<ControlMessage> renew(String clientId, Renew r) {
    List<CompletableFuture<?>> fetches = new ArrayList<>();
    if (sm.upstream != null) {
      int budget = sm.limits.maxFetchesPerRenew();
      for (ServiceVersion sv : r.services()) {
        if (sm.records.contains(sv.service())) {
          continue;
        }
        if (!visibleOrUnknown(clientId, sv.service()) || budget <= 0 || !sm.limiter.tryTake(clientId)) {
          // Bounded: a client cannot make this manager query its upstream for arbitrary ids with every renewal.
          sm.limiter.count(ErrorReply.NOT_PERMITTED);
          continue;
        }
        budget--;
        // After a restart of this cluster: fetch (and register upstream) what the worker still uses.
        fetches.add(sm.upstream.request(new Query(QueryKey.of(sv.service()), true)).thenAccept(reply -> {
          if (reply instanceof QueryReply && ((QueryReply) reply).status() == QueryReply.Status.FOUND
              && sm.verifier.verify(((QueryReply) reply).record())) {
            sm.applyRecord(((QueryReply) reply).record());
            if (sm.visible(clientId, sv.service())) {
              // Only an interest the client may hold keeps the upstream registration; the rest is dropped.
              sm.upstreamInterests.add(sv.service());
            }
          }
        }).toCompletableFuture().exceptionally(e -> null));
      }
    }
    return CompletableFuture.allOf(fetches.toArray(new CompletableFuture<?>[0])).thenApply(x -> {
      List<SignedRecord> newer = new ArrayList<>();
      List<SignedRemoval> gone = new ArrayList<>();
      long expires = sm.clock.millis() + sm.interestTtl.toMillis();
      synchronized (sm.lock) {
        for (ServiceVersion sv : r.services()) {
          SignedRecord sr = sm.records.get(sv.service());
          if (sr == null) {
            if (sm.upstream == null || sm.upstream.isOnline()) {
              gone.add(SignedRemoval.withdrawn(sv.service(), sv.version()));
            }
            continue;
          }
          if (!sm.visible(clientId, sv.service())) {
            gone.add(SignedRemoval.withdrawn(sv.service(), sv.version()));
            sm.removeInterest(sv.service(), clientId);
            continue;
          }
          sm.interests.register(sv.service(), clientId, expires, -1);
          if (sr.record().version() > sv.version()) {
            newer.add(sm.pruneFor(clientId, sr, -1));
          }
        }
      }
      return new RenewReply(newer, gone);
    });
  }

  private boolean visibleOrUnknown(String clientId, ServiceId s) {
    return sm.visible(clientId, s) || !sm.hostsAnything(clientId);
  }
}
