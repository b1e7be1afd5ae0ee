package io.semnet.resolver;

import io.semnet.core.stats.Stat;
import io.semnet.core.stats.StatsVisitor;

/** {@link WorkerResolver.Stats} as {@code semnet.resolver.*} stats (labels are fixed words). */
final class ResolverStatsReport {
  private static final Stat ONLINE = Stat.gauge("semnet.resolver.online", "1 while the resolver's manager link is up, else 0");
  private static final Stat SERVICES = Stat.gauge("semnet.resolver.services", "Services the node holds routes for");
  private static final Stat QUERIES = Stat.counter("semnet.resolver.queries", "Table queries sent to the service managers");
  private static final Stat CACHE = Stat.counter("semnet.resolver.cache",
      "Route look-ups by result: hit and miss (data path), negative_hit (answered from the negative cache)", "result");
  private static final Stat UNAVAILABLE = Stat.counter("semnet.resolver.unavailable",
      "Resolutions that ended UNAVAILABLE (manager unreachable or refused)");
  private static final Stat PUSHES = Stat.counter("semnet.resolver.pushes",
      "Pushed or answered records by outcome: applied, stale_ignored, rejected (signature), rollback_refused, withdrawal_refused",
      "outcome");
  private static final Stat STALE_HEARTBEATS = Stat.counter("semnet.resolver.stale.heartbeats",
      "Root heartbeats refused as expired or older than the one held");

  private ResolverStatsReport() {}

  static void report(WorkerResolver.Stats s, StatsVisitor v) {
    v.value(ONLINE, s.online() ? 1 : 0);
    v.value(SERVICES, s.services());
    v.value(QUERIES, s.queries());
    v.value(CACHE, "hit", s.cacheHits());
    v.value(CACHE, "miss", s.cacheMisses());
    v.value(CACHE, "negative_hit", s.negativeHits());
    v.value(UNAVAILABLE, s.unavailable());
    v.value(PUSHES, "applied", s.applied());
    v.value(PUSHES, "stale_ignored", s.staleIgnored());
    v.value(PUSHES, "rejected", s.rejected());
    v.value(PUSHES, "rollback_refused", s.rollbacksRefused());
    v.value(PUSHES, "withdrawal_refused", s.withdrawalsRefused());
    v.value(STALE_HEARTBEATS, s.staleHeartbeats());
  }
}
