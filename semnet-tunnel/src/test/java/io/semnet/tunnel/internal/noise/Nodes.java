package io.semnet.tunnel.internal.noise;

import io.semnet.tunnel.CipherSuite;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/** Test fixture: handshake nodes on a shared fake clock, each knowing the peers added to it. */
final class Nodes {
  static final InetSocketAddress SRC_A = new InetSocketAddress("127.0.0.1", 40001);

  final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  final AtomicLong wallMillis = new AtomicLong(Instant.parse("2026-12-05T08:00:00Z").toEpochMilli());
  private final SecureRandom random = new SecureRandom();

  /** A node of the handshake. */
  final class Node {
    final DhKeyPair keys = DhKeyPair.generate();
    final Set<String> known = new HashSet<>();
    final TimestampStore store;
    final SourceRateLimiter limiter = new SourceRateLimiter(256, SourceRateLimiter.DEFAULT_PER_SECOND, SourceRateLimiter.DEFAULT_BURST,
        nanos::get);
    final Handshake hs;

    Node(CipherSuite suite, TimestampStore store) {
      this.store = store;
      this.hs = new Handshake(suite, keys, k -> known.contains(Arrays.toString(k)), store, limiter, random::nextInt, nanos::get,
          clock());
    }

    void knows(Node other) {
      known.add(Arrays.toString(other.keys.publicKey()));
    }

    byte[] pub() {
      return keys.publicKey();
    }
  }

  Node node(CipherSuite suite) {
    return new Node(suite, TimestampStore.inMemory());
  }

  Node node() {
    return node(CipherSuite.AES_256_GCM);
  }

  Clock clock() {
    return new Clock() {
      @Override
      public ZoneOffset getZone() {
        return ZoneOffset.UTC;
      }

      @Override
      public Clock withZone(java.time.ZoneId zone) {
        throw new UnsupportedOperationException();
      }

      @Override
      public Instant instant() {
        return Instant.ofEpochMilli(wallMillis.get());
      }
    };
  }

  void advanceMillis(long ms) {
    nanos.addAndGet(ms * 1_000_000L);
    wallMillis.addAndGet(ms);
  }
}
