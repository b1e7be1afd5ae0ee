package io.semnet.tunnel.internal.noise;

import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Persistence hook for handshake timestamps, keyed by a 32-byte static public key: the responder's
 * replay floor per initiator ({@link TimestampFloor}) and the initiator's last issued timestamp
 * ({@link TimestampClock}). A durable implementation (a file, the node's key store) keeps replay
 * protection and monotonic issuance across restarts and clock steps; {@link #inMemory()} keeps them
 * only for the life of the process. Implementations must be thread-safe and must have written the
 * value when {@link #store} returns.
 */
public interface TimestampStore {
  /** The stored timestamp for {@code key}, or null if none. */
  Tai64n load(byte[] key);

  /** Stores {@code t} for {@code key}, replacing any earlier value. */
  void store(byte[] key, Tai64n t);

  /** A store in a concurrent map (not durable). */
  static TimestampStore inMemory() {
    Map<String, Tai64n> map = new ConcurrentHashMap<>();
    return new TimestampStore() {
      @Override
      public Tai64n load(byte[] key) {
        return map.get(HexFormat.of().formatHex(key));
      }

      @Override
      public void store(byte[] key, Tai64n t) {
        map.put(HexFormat.of().formatHex(key), t);
      }
    };
  }
}
