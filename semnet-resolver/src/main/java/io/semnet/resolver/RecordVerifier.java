package io.semnet.resolver;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.semnet.core.trust.RootTrust;
import io.semnet.resolver.internal.Canonical;
import io.semnet.resolver.protocol.SignedRecord;
import io.semnet.resolver.protocol.SignedRemoval;
import io.semnet.resolver.protocol.SignedRules;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * Checks what the root signed before a cluster manager or worker believes it. Remembers the bodies
 * of recently verified signatures (bounded), so a record version seen again (pushed, then returned
 * by a renewal, or received by several workers embedded in one JVM) costs a hash instead of an
 * Ed25519 verification. A memo entry only matches the exact signed bytes, so it never admits a
 * changed record. Thread-safe; one may be shared by several components of one process.
 */
public final class RecordVerifier {
  private final RootTrust trust;
  private final Cache<ByteBuffer, byte[]> verified = Caffeine.newBuilder().maximumSize(100_000).build();

  private RecordVerifier(RootTrust trust) {
    this.trust = Objects.requireNonNull(trust, "trust");
  }

  public static RecordVerifier of(RootTrust trust) {
    return new RecordVerifier(trust);
  }

  public RootTrust trust() {
    return trust;
  }

  /** True if the root signed this record version and every carried instance belongs to it. */
  public boolean verify(SignedRecord record) {
    byte[] sig = record.signature();
    if (sig == null) {
      return false;
    }
    byte[] body = record.signedBody();
    ByteBuffer key = ByteBuffer.wrap(sig);
    byte[] digest = Canonical.sha256(body);
    byte[] known = verified.getIfPresent(key);
    if (known == null || !Arrays.equals(known, digest)) {
      if (!trust.verify(body, sig)) {
        return false;
      }
      verified.put(key, digest);
    }
    return record.instancesCovered();
  }

  public boolean verify(SignedRules rules) {
    return rules.verify(trust);
  }

  public boolean verify(SignedRemoval removal) {
    return removal.verify(trust);
  }
}
