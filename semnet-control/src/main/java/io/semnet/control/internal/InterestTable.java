package io.semnet.control.internal;

import io.semnet.core.service.ServiceId;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiPredicate;

/**
 * A manager's registered interests: per service, the clients that asked for it, until when the
 * interest lives, and which instance ordinals each client asked for by name or address (pruning
 * always keeps those). Thread-safe; bounded by the services the manager holds times its clients.
 */
public final class InterestTable {
  private final Map<ServiceId, Map<String, Interest>> interests = new ConcurrentHashMap<>();

  private static final class Interest {
    volatile long expiresAt;
    final Set<Integer> ordinals = ConcurrentHashMap.newKeySet();
  }

  /** Registers (or extends) {@code client}'s interest in {@code service}; {@code ordinal} < 0 adds none. */
  public void register(ServiceId service, String client, long expiresAt, int ordinal) {
    Interest i = interests.computeIfAbsent(service, k -> new ConcurrentHashMap<>()).computeIfAbsent(client, k -> new Interest());
    i.expiresAt = expiresAt;
    if (ordinal >= 0) {
      i.ordinals.add(ordinal);
    }
  }

  /** Drops one client's interest in a service. */
  public void remove(ServiceId service, String client) {
    Map<String, Interest> m = interests.get(service);
    if (m != null) {
      m.remove(client);
    }
  }

  /** Drops every interest in a service. */
  public void removeService(ServiceId service) {
    interests.remove(service);
  }

  /** @return whether any interest (live or not yet expired by {@link #expire}) is held in {@code service} */
  public boolean has(ServiceId service) {
    return interests.containsKey(service);
  }

  /** @return the clients whose interest in {@code service} lives past {@code now} */
  public Set<String> liveClients(ServiceId service, long now) {
    Map<String, Interest> m = interests.get(service);
    if (m == null) {
      return Set.of();
    }
    Set<String> out = new HashSet<>();
    m.forEach((c, i) -> {
      if (i.expiresAt > now) {
        out.add(c);
      }
    });
    return out;
  }

  /** @return the ordinals {@code client} asked for in {@code service} (empty if it holds no interest) */
  public Set<Integer> ordinals(ServiceId service, String client) {
    Interest i = interests.getOrDefault(service, Map.of()).get(client);
    return i == null ? Set.of() : i.ordinals;
  }

  /** Forgets every interest that expired at or before {@code now}. */
  public void expire(long now) {
    interests.forEach((sid, m) -> m.values().removeIf(i -> i.expiresAt <= now));
    interests.entrySet().removeIf(e -> e.getValue().isEmpty());
  }

  /** Drops every interest for which {@code gone(client, service)} holds and lists it in {@code out}. */
  public void withdrawIf(BiPredicate<String, ServiceId> gone, List<Map.Entry<String, ServiceId>> out) {
    interests.forEach((sid, m) -> m.keySet().removeIf(c -> {
      if (gone.test(c, sid)) {
        out.add(Map.entry(c, sid));
        return true;
      }
      return false;
    }));
  }
}
