package io.semnet.control;

import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RootAuthority;
import io.semnet.resolver.protocol.HeartbeatPush;
import io.semnet.resolver.protocol.SignedHeartbeat;
import io.semnet.resolver.protocol.SignedRecord;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A manager's side of the root heartbeat ({@link SignedHeartbeat}). On the root it signs a new one
 * (current epoch, the version of every service it holds and of every removal, the rules version)
 * and pushes it to every client; on a cluster it takes the root's, keeps it if the root signed it,
 * it is newer and not expired, and forwards it unchanged. Either way the latest goes into every
 * hello reply, so a fresh node learns the floors before it believes a record. Thread-safe.
 */
final class Heartbeats {
  private static final Logger log = LoggerFactory.getLogger(ServiceManager.class);

  private final ServiceManager sm;
  private final RootAuthority authority;
  private final long epoch;
  private final Duration validity;
  private final Map<ServiceId, Long> removed = new ConcurrentHashMap<>();
  private final LongAdder refused = new LongAdder();
  private volatile SignedHeartbeat current;

  Heartbeats(ServiceManager sm, RootAuthority authority, long epoch, Duration validity) {
    this.sm = sm;
    this.authority = authority;
    this.epoch = epoch;
    this.validity = validity;
  }

  /** The latest heartbeat signed or accepted, or null. */
  SignedHeartbeat current() {
    return current;
  }

  /** Heartbeats refused by a cluster (bad signature, expired, older than the one held). */
  long refused() {
    return refused.sum();
  }

  /** Root: remembers that {@code service} was removed at {@code version}, so heartbeats keep vouching for it. */
  void removed(ServiceId service, long version) {
    if (authority != null) {
      removed.merge(service, version, Math::max);
    }
  }

  /** Root: signs a new heartbeat and pushes it to every client. */
  SignedHeartbeat publish() {
    if (authority == null) {
      throw new IllegalStateException("only the root signs heartbeats");
    }
    Map<ServiceId, Long> versions = new HashMap<>(removed);
    long rulesVersion;
    synchronized (sm.lock) {
      for (SignedRecord sr : sm.records.values()) {
        versions.merge(sr.record().service(), sr.record().version(), Math::max);
      }
      rulesVersion = sm.rules.version();
    }
    SignedHeartbeat h;
    synchronized (this) {
      SignedHeartbeat last = current;
      long now = sm.clock.millis();
      long issued = last == null ? now : Math.max(now, last.issuedAtMillis() + 1);
      h = SignedHeartbeat.sign(epoch, issued, issued + validity.toMillis(), rulesVersion, versions, authority);
      current = h;
    }
    forward(h);
    return h;
  }

  /** Cluster: takes a heartbeat from upstream; keeps and forwards it if valid and newer. */
  void take(SignedHeartbeat h) {
    if (h == null) {
      return;
    }
    synchronized (this) {
      if (!h.isNewerThan(current)) {
        if (!h.equals(current)) {
          refused.increment();
        }
        return;
      }
      if (!h.verify(sm.verifier.trust()) || sm.clock.millis() > h.expiresAtMillis()) {
        refused.increment();
        log.warn("manager {}: refused heartbeat of epoch {}: bad signature or expired", sm.id, h.epoch());
        return;
      }
      current = h;
    }
    forward(h);
  }

  private void forward(SignedHeartbeat h) {
    HeartbeatPush push = new HeartbeatPush(h);
    for (String c : sm.clients.keySet()) {
      sm.binding.push(c, push);
    }
  }
}
