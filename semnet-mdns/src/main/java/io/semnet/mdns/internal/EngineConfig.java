package io.semnet.mdns.internal;

/** Tunables of the {@link QueryEngine}; immutable. Times in nanoseconds unless named otherwise. */
public final class EngineConfig {
  public final long ttlSeconds;
  public final long legacyTtlSeconds;
  public final long negativeNanos;
  public final long refreshNanos;
  public final long resolveTimeoutMillis;
  public final int maxPendingNames;
  public final int maxWaitersPerName;
  public final int maxEntries;
  public final int maxUnicastQuery;
  public final int maxMdnsPacket;
  public final boolean recursionAvailable;
  public final boolean refuseOutOfZone;

  public EngineConfig(long ttlSeconds, long negativeNanos, long refreshNanos, long resolveTimeoutMillis,
      int maxPendingNames, int maxWaitersPerName, int maxEntries, int maxUnicastQuery, int maxMdnsPacket,
      boolean recursionAvailable, boolean refuseOutOfZone) {
    this.ttlSeconds = ttlSeconds;
    this.legacyTtlSeconds = Math.min(ttlSeconds, 10); // RFC 6762 §6.7: at most ten seconds
    this.negativeNanos = negativeNanos;
    this.refreshNanos = refreshNanos;
    this.resolveTimeoutMillis = resolveTimeoutMillis;
    this.maxPendingNames = maxPendingNames;
    this.maxWaitersPerName = maxWaitersPerName;
    this.maxEntries = maxEntries;
    this.maxUnicastQuery = maxUnicastQuery;
    this.maxMdnsPacket = maxMdnsPacket;
    this.recursionAvailable = recursionAvailable;
    this.refuseOutOfZone = refuseOutOfZone;
  }
}
