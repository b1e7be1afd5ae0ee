package io.semnet.tunnel.internal.noise;

/**
 * The responder's replay check on initiations: per initiator static key, an initiation's timestamp
 * must be strictly greater than the greatest one accepted before, which is then stored. Floors live
 * in the {@link TimestampStore}; only authenticated initiations from known peers reach this check,
 * so the store holds at most one entry per known peer. Thread-safe.
 */
public final class TimestampFloor {
  private final TimestampStore store;

  /** A floor backed by {@code store}. */
  public TimestampFloor(TimestampStore store) {
    this.store = store;
  }

  /** Accepts and records {@code t} if it is newer than {@code peerKey}'s floor; false for a replay. */
  public synchronized boolean tryAdvance(byte[] peerKey, Tai64n t) {
    Tai64n floor = store.load(peerKey);
    if (floor != null && t.compareTo(floor) <= 0) {
      return false;
    }
    store.store(peerKey, t);
    return true;
  }
}
