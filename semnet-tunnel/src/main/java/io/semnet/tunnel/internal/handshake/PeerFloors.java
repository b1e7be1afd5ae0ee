package io.semnet.tunnel.internal.handshake;

import io.semnet.tunnel.TimestampPersistence;
import io.semnet.tunnel.internal.noise.Tai64n;
import io.semnet.tunnel.internal.noise.TimestampStore;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tunnel's {@link TimestampStore}: this node's own last issued timestamp goes to the node's
 * {@link TimestampPersistence} (durable, so a restart with the clock stepped back continues above
 * it); the replay floors of peers (only certified peers reach the floor) stay in memory, at most
 * {@code maxPeers} of them, least recently used out. Thread-safe.
 */
final class PeerFloors implements TimestampStore {
  private final byte[] own;
  private final TimestampPersistence persistence;
  private final Map<ByteBuffer, Tai64n> floors;

  PeerFloors(byte[] ownPublicKey, TimestampPersistence persistence, int maxPeers) {
    this.own = ownPublicKey.clone();
    this.persistence = persistence;
    this.floors = new LinkedHashMap<>(64, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<ByteBuffer, Tai64n> e) {
        return size() > maxPeers;
      }
    };
  }

  @Override
  public synchronized Tai64n load(byte[] key) {
    if (Arrays.equals(key, own)) {
      byte[] b = persistence.load();
      return b == null ? null : Tai64n.decode(b);
    }
    return floors.get(ByteBuffer.wrap(key.clone()));
  }

  @Override
  public synchronized void store(byte[] key, Tai64n t) {
    if (Arrays.equals(key, own)) {
      persistence.store(t.encode());
    } else {
      floors.put(ByteBuffer.wrap(key.clone()), t);
    }
  }
}
