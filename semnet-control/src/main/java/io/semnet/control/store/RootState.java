package io.semnet.control.store;

import io.semnet.core.address.IpPrefix;
import io.semnet.core.record.InstanceRecord;
import io.semnet.resolver.NodeRegistration;
import io.semnet.core.service.ServiceId;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The root's persisted state: the fold of every {@link RootEvent} so far. Not thread-safe; stores
 * guard it.
 */
public final class RootState {
  private final Map<ServiceId, RootEvent.ServicePut> services = new LinkedHashMap<>();
  private final Map<String, NodeRegistration> nodes = new LinkedHashMap<>();
  private final Map<String, List<IpPrefix>> pools = new LinkedHashMap<>();
  private final Map<IpPrefix, Instant> released = new LinkedHashMap<>();
  private RootEvent.RulesPut rules = new RootEvent.RulesPut(0, List.of());
  private RootEvent.RevocationsPut revocations = new RootEvent.RevocationsPut(0, List.of());
  private long maxVersion;
  private long eventSequence;

  /** Folds one event in. */
  public void apply(RootEvent e) {
    if (e instanceof RootEvent.ServicePut) {
      RootEvent.ServicePut s = (RootEvent.ServicePut) e;
      services.put(s.record().service(), s);
      maxVersion = Math.max(maxVersion, s.record().version());
      for (InstanceRecord i : s.record().instances()) {
        if (i.locator() != null) {
          maxVersion = Math.max(maxVersion, i.locator().version());
        }
      }
    } else if (e instanceof RootEvent.ServiceRemoved) {
      services.remove(((RootEvent.ServiceRemoved) e).service());
      maxVersion = Math.max(maxVersion, ((RootEvent.ServiceRemoved) e).version());
    } else if (e instanceof RootEvent.NodePut) {
      NodeRegistration n = ((RootEvent.NodePut) e).node();
      nodes.put(n.nodeId(), n);
      if (n.certificate() != null) {
        maxVersion = Math.max(maxVersion, n.certificate().serial()); // serials come from the version counter
      }
    } else if (e instanceof RootEvent.NodeRemoved) {
      nodes.remove(((RootEvent.NodeRemoved) e).nodeId());
    } else if (e instanceof RootEvent.PoolPut) {
      RootEvent.PoolPut p = (RootEvent.PoolPut) e;
      List<IpPrefix> l = pools.computeIfAbsent(p.clusterId(), k -> new ArrayList<>());
      if (!l.contains(p.pool())) {
        l.add(p.pool());
      }
    } else if (e instanceof RootEvent.RulesPut) {
      rules = (RootEvent.RulesPut) e;
      maxVersion = Math.max(maxVersion, rules.version());
    } else if (e instanceof RootEvent.RevocationsPut r) {
      revocations = r;
      maxVersion = Math.max(maxVersion, r.version());
    } else if (e instanceof RootEvent.VersionFloor) {
      maxVersion = Math.max(maxVersion, ((RootEvent.VersionFloor) e).version());
    } else if (e instanceof RootEvent.EventSequence) {
      eventSequence = Math.max(eventSequence, ((RootEvent.EventSequence) e).sequence());
    } else if (e instanceof RootEvent.Released) {
      RootEvent.Released r = (RootEvent.Released) e;
      released.put(r.prefix(), r.until());
    }
  }

  public Map<ServiceId, RootEvent.ServicePut> services() {
    return services;
  }

  public Map<String, NodeRegistration> nodes() {
    return nodes;
  }

  public Map<String, List<IpPrefix>> pools() {
    return pools;
  }

  /** Released prefixes with the end of their quarantine (may include ones reallocated since). */
  public Map<IpPrefix, Instant> released() {
    return released;
  }

  public RootEvent.RulesPut rules() {
    return rules;
  }

  /** The current certificate revocation list. */
  public RootEvent.RevocationsPut revocations() {
    return revocations;
  }

  /** The highest version ever stamped (records, locators, removals, rules, revocation lists, certificate serials). */
  public long maxVersion() {
    return maxVersion;
  }

  /** The highest liveness event number handed out (see {@link RootEvent.EventSequence}). */
  public long eventSequence() {
    return eventSequence;
  }

  /** An independent copy (what a store's {@code load} hands out). */
  public RootState copy() {
    RootState c = new RootState();
    toEvents(Instant.MIN).forEach(c::apply);
    return c;
  }

  /** The events that rebuild this state (for compaction), releases only if still quarantined at {@code now}. */
  public List<RootEvent> toEvents(Instant now) {
    List<RootEvent> out = new ArrayList<>();
    pools.forEach((c, l) -> l.forEach(p -> out.add(new RootEvent.PoolPut(c, p))));
    nodes.values().forEach(n -> out.add(new RootEvent.NodePut(n)));
    services.values().forEach(out::add);
    out.add(rules);
    out.add(revocations);
    released.forEach((p, until) -> {
      if (until.isAfter(now)) {
        out.add(new RootEvent.Released(p, until));
      }
    });
    // Keeps the version counter even if the newest versions belonged to removed services.
    out.add(new RootEvent.VersionFloor(maxVersion));
    if (eventSequence != 0) {
      out.add(new RootEvent.EventSequence(eventSequence));
    }
    return out;
  }
}
