package io.semnet.resolver;

import io.semnet.core.address.InstanceIp;
import io.semnet.core.address.ServiceIp;
import io.semnet.core.address.VirtualIp;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.Resolution;
import io.semnet.core.route.Route;
import io.semnet.core.service.SemanticName;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.ErrorReply;
import io.semnet.resolver.protocol.Query;
import io.semnet.resolver.protocol.QueryKey;
import io.semnet.resolver.protocol.QueryReply;
import io.semnet.resolver.protocol.SignedRecord;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link WorkerResolver}'s table queries: answers from the route cache or the short negative cache,
 * shares one query among concurrent misses of a key, asks the manager otherwise (registering
 * interest) and turns a verified answer into routes. Works on the resolver's state; holds none itself.
 */
final class WorkerQueries {
  private static final Logger log = LoggerFactory.getLogger(WorkerResolver.class);

  private final WorkerResolver w;

  WorkerQueries(WorkerResolver w) {
    this.w = w;
  }

  // ---------------------------------------------------------------- queries

  CompletionStage<Resolution> resolveKey(QueryKey key) {
    Object k = key.value();
    if (w.closed) {
      return CompletableFuture.completedFuture(Resolution.unavailable("resolver is closed"));
    }
    Route r = w.routes.getIfPresent(k);
    if (r != null) {
      w.markUsed(r.target().service());
      return w.async(Resolution.found(r));
    }
    String negative = w.negatives.getIfPresent(k);
    if (negative != null) {
      w.negativeHits.increment();
      return w.async(Resolution.notFound(negative));
    }
    if (w.link == null) {
      return w.async(Resolution.unavailable("resolver is not running"));
    }
    if (w.link.lastFailed()) {
      w.unavailable.increment();
      return w.async(Resolution.unavailable("service manager '" + w.managerId + "' is unreachable"));
    }
    CompletableFuture<Resolution> f = w.inflight.computeIfAbsent(k, x -> {
      // A query that finished between the cache check above and here has already put its answer
      // (it does so before leaving the in-flight map): look again rather than ask twice.
      if (w.routes.getIfPresent(x) != null || w.negatives.getIfPresent(x) != null) {
        return null; // no mapping: answered below from the caches
      }
      CompletableFuture<Resolution> cf = new CompletableFuture<>();
      try {
        w.executor.execute(() -> query(key, cf));
      } catch (java.util.concurrent.RejectedExecutionException e) {
        return null; // closing
      }
      return cf;
    });
    if (f == null) {
      Route late = w.routes.getIfPresent(k);
      if (late != null) {
        return w.async(Resolution.found(late));
      }
      String lateNegative = w.negatives.getIfPresent(k);
      return w.async(lateNegative != null ? Resolution.notFound(lateNegative)
          : Resolution.unavailable(w.closed ? "resolver is closed" : "route changed while resolving; retry"));
    }
    try {
      return f.thenApplyAsync(x -> x, w.executor);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return f;
    }
  }

  void query(QueryKey key, CompletableFuture<Resolution> cf) {
    Object k = key.value();
    w.queries.increment();
    w.link.request(new Query(key, true)).handle((reply, e) -> {
      Resolution res;
      if (e != null) {
        w.needResync = true;
        res = Resolution.unavailable("service manager '" + w.managerId + "' is unreachable: " + e.getMessage());
      } else {
        res = onQueryReply(key, reply);
      }
      if (res.status() == Resolution.Status.UNAVAILABLE) {
        w.unavailable.increment();
      }
      w.inflight.remove(k, cf);
      cf.complete(res);
      return null;
    });
  }

  Resolution onQueryReply(QueryKey key, ControlMessage reply) {
    if (!(reply instanceof QueryReply)) {
      String why = reply instanceof ErrorReply ? ((ErrorReply) reply).reason() : reply.type();
      return Resolution.unavailable("service manager refused the query: " + why);
    }
    QueryReply q = (QueryReply) reply;
    switch (q.status()) {
      case NOT_FOUND:
        String reason = q.reason() == null ? "no route for " + key : q.reason();
        w.negatives.put(key.value(), reason);
        return Resolution.notFound(reason);
      case UNAVAILABLE:
        return Resolution.unavailable(q.reason() == null ? "upstream unavailable" : q.reason());
      default:
        break;
    }
    SignedRecord sr = q.record();
    if (!w.verifier.verify(sr)) {
      w.rejected.increment();
      log.warn("resolver {}: rejected record of {} for {}: bad or missing root signature", w.nodeId, sr.record().service(), key);
      return Resolution.unavailable("record for " + key + " failed root signature verification");
    }
    WorkerResolver.Entry e = w.services.computeIfAbsent(sr.record().service(), s -> new WorkerResolver.Entry());
    w.updates.applyRecord(e, sr);
    Route route;
    synchronized (e) {
      if (e.record == null) {
        // refused as older than this node's version floor (a replay): nothing to route with
        w.services.remove(sr.record().service(), e);
        return Resolution.unavailable("record for " + key + " is older than version "
            + w.floors.floor(sr.record().service()) + " this node already knows");
      }
      route = routeFor(key.value(), e.record.record());
      if (route == null) {
        w.negatives.put(key.value(), "no route for " + key);
        return Resolution.notFound("no route for " + key);
      }
      e.keys.add(key.value());
      e.used = true;
      w.routes.put(key.value(), route);
    }
    return Resolution.found(route);
  }

  /** The route a key has in a record, or null if the record does not answer it. */
  static Route routeFor(Object key, ServiceRecord r) {
    VirtualIp target = null;
    if (key instanceof InetAddress) {
      InetAddress a = (InetAddress) key;
      ServiceIp sip = r.serviceIpFor(a);
      if (sip != null) {
        target = sip;
      } else {
        InstanceRecord i = r.instanceFor(a);
        if (i != null) {
          target = i.instanceIp(a instanceof Inet4Address);
        }
      }
    } else if (key instanceof SemanticName) {
      SemanticName n = (SemanticName) key;
      if (!n.service().equals(r.service())) {
        return null;
      }
      if (n.isInstance()) {
        InstanceRecord i = r.instance(n.instance());
        if (i != null) {
          InstanceIp ip = i.instanceIpv4() != null ? i.instanceIpv4() : i.instanceIpv6();
          target = ip;
        }
      } else {
        ServiceIp ip = r.serviceIp(n.policy(), true);
        target = ip != null ? ip : r.serviceIp(n.policy(), false);
      }
    }
    return target == null ? null : Route.of(target, r);
  }
}
