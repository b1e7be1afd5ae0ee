package io.semnet.resolver;

import io.semnet.core.service.ServiceId;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.Drop;
import io.semnet.resolver.protocol.Renew;
import io.semnet.resolver.protocol.RenewReply;
import io.semnet.resolver.protocol.ServiceVersion;
import io.semnet.resolver.protocol.SignedRecord;
import io.semnet.resolver.protocol.SignedRemoval;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * A {@link WorkerResolver}'s maintenance round: forgets unused routes and drops their interests,
 * renews the interests of services used since the last renewal, probes the manager while offline and,
 * once it answers, re-registers every interest and catches up on what changed meanwhile. Works on
 * the resolver's state; holds none itself.
 */
final class WorkerRenewal {
  private final WorkerResolver w;

  WorkerRenewal(WorkerResolver w) {
    this.w = w;
  }

  void run() {
    if (w.closed || w.link == null) {
      return;
    }
    w.saveState();
    w.routes.cleanUp();
    w.negatives.cleanUp();
    if (!w.link.isOnline()) {
      Boolean ok = join(w.link.hello());
      if (ok == null || !ok) {
        w.needResync = true;
        return;
      }
    }
    if (!w.toDrop.isEmpty()) {
      List<ServiceId> drop = new ArrayList<>(w.toDrop);
      w.toDrop.removeAll(drop);
      drop.removeIf(w.services::containsKey);
      if (!drop.isEmpty()) {
        w.link.request(new Drop(drop));
      }
    }
    long now = w.ticker.read();
    boolean resync = w.needResync;
    if (!resync && now - w.lastRenewal < w.renewInterval.toNanos()) {
      return;
    }
    List<ServiceVersion> renew = new ArrayList<>();
    w.services.forEach((sid, e) -> {
      if (resync || e.used) {
        e.used = false;
        renew.add(new ServiceVersion(sid, e.record == null ? 0 : e.record.record().version()));
      }
    });
    w.lastRenewal = now;
    if (renew.isEmpty()) {
      w.needResync = false;
      return;
    }
    ControlMessage reply;
    try {
      reply = w.link.request(new Renew(renew)).toCompletableFuture().get(w.requestTimeout.toMillis() * 3, TimeUnit.MILLISECONDS);
    } catch (Exception ex) {
      w.needResync = true;
      for (ServiceVersion sv : renew) {
        WorkerResolver.Entry e = w.services.get(sv.service());
        if (e != null) {
          e.used = true; // renew again next time
        }
      }
      return;
    }
    w.needResync = false;
    if (reply instanceof RenewReply) {
      RenewReply rr = (RenewReply) reply;
      for (SignedRecord sr : rr.newer()) {
        WorkerResolver.Entry e = w.services.get(sr.record().service());
        if (e == null) {
          continue;
        }
        if (w.verifier.verify(sr)) {
          w.updates.applyRecord(e, sr);
        } else {
          w.rejected.increment();
        }
      }
      for (SignedRemoval gone : rr.gone()) {
        w.updates.applyRemoval(gone);
      }
    }
  }

  private static <T> T join(CompletionStage<T> s) {
    try {
      return s.toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      return null;
    }
  }
}
