package io.semnet.tunnel;

/**
 * Where a node keeps the last handshake timestamp it issued (12 bytes, TAI64N: {@code 2^62 + Unix
 * seconds} then nanoseconds, big-endian), so that after a restart its initiations continue above
 * it even if the wall clock stepped back: peers refuse an initiation whose timestamp is not newer
 * than the last one they accepted from that key. Implementations must have written the value
 * durably when {@link #store} returns and must be thread-safe. Without one, the tunnel keeps it in
 * memory (a restart with the clock stepped back is then refused by peers until the clock catches
 * up, or until they restart).
 */
public interface TimestampPersistence {
  /** The stored timestamp (12 bytes), or null if none was stored. */
  byte[] load();

  /** Stores {@code timestamp} (12 bytes), replacing the earlier one. */
  void store(byte[] timestamp);

  /** A persistence in memory only (the default): survives nothing. */
  static TimestampPersistence inMemory() {
    byte[][] last = new byte[1][];
    return new TimestampPersistence() {
      @Override
      public synchronized byte[] load() {
        return last[0] == null ? null : last[0].clone();
      }

      @Override
      public synchronized void store(byte[] timestamp) {
        last[0] = timestamp.clone();
      }
    };
  }
}
