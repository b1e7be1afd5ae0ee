package io.semnet.control;

import io.semnet.core.trust.RootTrust;
import io.semnet.resolver.enrol.JoinToken;
import io.semnet.resolver.internal.EnrolmentProof;
import io.semnet.resolver.protocol.EnrolRequest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * The root's live join tokens (in memory: a restart invalidates them, failing closed). Bounded: at
 * most {@link #MAX_TOKENS} unexpired tokens; expired and consumed ones are purged. Thread-safe.
 */
final class JoinTokens {
  static final int MAX_TOKENS = 10_000;
  static final Duration MAX_TTL = Duration.ofDays(7);
  private static final char[] ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789".toCharArray();

  private final SecureRandom random = new SecureRandom();
  private final Map<String, JoinToken> live = new HashMap<>();
  /** Consumed one-time tokens until their expiry, so that a reuse gets its own reason. */
  private final Map<String, Instant> used = new HashMap<>();
  private final String rootKeyHash;
  private final Clock clock;

  JoinTokens(RootTrust root, Clock clock) {
    this.rootKeyHash = JoinToken.rootKeyHash(root);
    this.clock = clock;
  }

  synchronized JoinToken issue(String clusterId, Duration ttl, boolean oneTime) {
    if (ttl == null || ttl.isNegative() || ttl.isZero() || ttl.compareTo(MAX_TTL) > 0) {
      throw new OrchestrationException("join token lifetime must be positive and at most " + MAX_TTL + ", got " + ttl);
    }
    purge();
    if (live.size() + used.size() >= MAX_TOKENS) {
      throw new OrchestrationException("too many live join tokens (" + MAX_TOKENS + "); let some expire first");
    }
    String id;
    do {
      char[] c = new char[6];
      for (int i = 0; i < c.length; i++) {
        c[i] = ID_CHARS[random.nextInt(ID_CHARS.length)];
      }
      id = new String(c);
    } while (live.containsKey(id) || used.containsKey(id));
    byte[] secret = new byte[16];
    random.nextBytes(secret);
    JoinToken t = new JoinToken(id, secret, clusterId, clock.instant().plus(ttl), oneTime, rootKeyHash);
    live.put(id, t);
    return t;
  }

  /**
   * The token {@code request} proves, or an exception with the reason it is refused. Does not
   * consume it (see {@link #consume}).
   */
  synchronized JoinToken check(EnrolRequest request) {
    JoinToken t = live.get(request.tokenId());
    if (t == null && used.containsKey(request.tokenId())) {
      throw new OrchestrationException("join token '" + request.tokenId() + "' was already used (it is one-time)");
    }
    if (t == null) {
      throw new OrchestrationException("unknown join token '" + request.tokenId() + "' (never issued, already used, or the root restarted)");
    }
    if (!clock.instant().isBefore(t.expiresAt())) {
      throw new OrchestrationException("join token '" + t.id() + "' expired at " + t.expiresAt());
    }
    if (!request.rootKeyHash().equals(rootKeyHash)) {
      throw new OrchestrationException("the node pinned root key " + request.rootKeyHash() + ", this root is " + rootKeyHash);
    }
    byte[] secret = java.util.HexFormat.of().parseHex(JoinToken.parse(t.token())[1]);
    if (!EnrolmentProof.matches(secret, request)) {
      throw new OrchestrationException("proof of join token '" + t.id() + "' does not match (wrong secret, or keys/endpoint altered)");
    }
    return t;
  }

  /** Marks a one-time token used (it is forgotten; a reuse is an unknown token). */
  synchronized void consume(JoinToken t) {
    if (t.oneTime()) {
      live.remove(t.id());
      used.put(t.id(), t.expiresAt());
    }
  }

  private void purge() {
    Instant now = clock.instant();
    live.values().removeIf(t -> !now.isBefore(t.expiresAt()));
    used.values().removeIf(e -> !now.isBefore(e));
  }
}
