package io.semnet.tunnel.internal.noise;

import java.net.InetAddress;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Token buckets per source address for handshake messages that passed the MAC checks, in a table
 * of fixed size (memory is bounded whatever the number of sources). IPv4 sources are keyed by the
 * address, IPv6 sources by their /64. A source maps to a slot by a keyed hash (random 128-bit key
 * per instance, so slots cannot be aimed at from outside); a slot remembers its source and is
 * taken over by another source once its bucket has refilled, otherwise colliding sources share the
 * bucket (conservative: they can only be limited more, never less). Thread-safe.
 */
public final class SourceRateLimiter {
  /** WireGuard's defaults: 20 handshake messages per second per source, bursts of 5. */
  public static final int DEFAULT_PER_SECOND = 20;
  /** Default burst. */
  public static final int DEFAULT_BURST = 5;

  private final long costNanos;
  private final long capacityNanos;
  private final LongSupplier nanoClock;
  private final long k0;
  private final long k1;
  private final long[] keys;
  private final long[] tokens;
  private final long[] stamps;
  private final boolean[] used;
  private final int mask;

  /** A table of {@code slots} buckets (rounded up to a power of two) with the given rate and burst. */
  public SourceRateLimiter(int slots, int perSecond, int burst, LongSupplier nanoClock) {
    if (slots < 1 || slots > 1 << 24 || perSecond < 1 || burst < 1) {
      throw new IllegalArgumentException("slots in [1, 2^24], rate and burst positive");
    }
    int n = slots == 1 ? 1 : Integer.highestOneBit(slots - 1) << 1;
    this.mask = n - 1;
    this.costNanos = TimeUnit.SECONDS.toNanos(1) / perSecond;
    this.capacityNanos = costNanos * burst;
    this.nanoClock = nanoClock;
    SecureRandom r = new SecureRandom();
    this.k0 = r.nextLong();
    this.k1 = r.nextLong();
    this.keys = new long[n];
    this.tokens = new long[n];
    this.stamps = new long[n];
    this.used = new boolean[n];
  }

  /** Number of slots in the table. */
  public int slots() {
    return mask + 1;
  }

  /** Takes one token for {@code source}; false if its bucket is empty (drop the message). */
  public boolean allow(InetAddress source) {
    return allowKeyed(key(source.getAddress()));
  }

  /** Takes one token for a 32-byte static public key (its first 16 bytes, keyed); false if its bucket is empty. */
  public boolean allowKey(byte[] staticKey) {
    long v = 0;
    long w = 0;
    for (int i = 0; i < 8; i++) {
      v = v << 8 | (staticKey[i] & 0xff);
      w = w << 8 | (staticKey[8 + i] & 0xff);
    }
    return allowKeyed(mix(mix(v ^ k0) ^ w ^ (3L << 59)));
  }

  private synchronized boolean allowKeyed(long key) {
    int slot = (int) mix(key ^ k1) & mask;
    long now = nanoClock.getAsLong();
    if (used[slot]) {
      long t = Math.min(capacityNanos, tokens[slot] + Math.max(0, now - stamps[slot]));
      tokens[slot] = t;
      stamps[slot] = now;
      if (keys[slot] != key && t == capacityNanos) {
        keys[slot] = key; // the previous source is idle: the slot changes hands
      }
    } else {
      used[slot] = true;
      keys[slot] = key;
      tokens[slot] = capacityNanos;
      stamps[slot] = now;
    }
    if (tokens[slot] < costNanos) {
      return false;
    }
    tokens[slot] -= costNanos;
    return true;
  }

  /** A keyed 64-bit digest of the IPv4 address or the IPv6 /64 (the family is part of it). */
  private long key(byte[] ip) {
    long v = 0;
    int n = ip.length == 4 ? 4 : 8;
    for (int i = 0; i < n; i++) {
      v = v << 8 | (ip[i] & 0xff);
    }
    return mix(v ^ k0 ^ ((long) ip.length << 59));
  }

  /** The MurmurHash3 64-bit finaliser. */
  private static long mix(long z) {
    z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
    z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
    return z ^ (z >>> 33);
  }
}
