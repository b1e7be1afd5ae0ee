package io.semnet.tunnel.internal.handshake;

import io.semnet.core.trust.NodeCertificate;
import io.semnet.core.trust.RootTrust;
import io.semnet.tunnel.internal.noise.Handshake.Drop;
import io.semnet.tunnel.internal.noise.Handshake.PayloadCheck;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The responder's check of the certificate an initiation carries in its encrypted payload: it must
 * decode, vouch for the initiation's static key, not name this node, not be revoked (by node id or
 * serial, {@link Revocations}), and
 * verify under the root. Ed25519 verifications are bounded: verified certificates are cached (at
 * most {@link #CACHE_ENTRIES}, least recently used out; expiry is checked on every use), and
 * verifications of uncached ones are limited to {@code verifyPerSecond} (a token bucket; over it the
 * initiation is refused as {@link Drop#VERIFY_LIMITED}). Event loop only.
 */
final class CertificateCheck implements PayloadCheck {
  static final int CACHE_ENTRIES = 4096;

  private final String self;
  private final RootTrust root;
  private final Clock wall;
  private final LongSupplier nanos;
  private final double verifyPerSecond;
  private final Map<ByteBuffer, NodeCertificate> verified = new LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<ByteBuffer, NodeCertificate> e) {
      return size() > CACHE_ENTRIES;
    }
  };
  private final Revocations revoked;
  private double tokens;
  private long tokensAt;
  private long verifications;
  /** The certificate of the last initiation accepted (read by the driver right after respond). */
  NodeCertificate lastAccepted;

  CertificateCheck(String self, RootTrust root, Revocations revoked, Clock wall, LongSupplier nanos, double verifyPerSecond) {
    this.self = self;
    this.revoked = revoked;
    this.root = root;
    this.wall = wall;
    this.nanos = nanos;
    this.verifyPerSecond = verifyPerSecond;
    this.tokens = Math.max(1, verifyPerSecond);
    this.tokensAt = nanos.getAsLong();
  }

  /** Ed25519 verifications run so far. */
  long verifications() {
    return verifications;
  }

  @Override
  public Drop check(byte[] peerStatic, byte[] extra) {
    lastAccepted = null;
    NodeCertificate cert;
    try {
      cert = NodeCertificate.decode(extra);
    } catch (RuntimeException e) {
      return Drop.BAD_CERTIFICATE;
    }
    if (cert.nodeId().equals(self) || !Arrays.equals(cert.publicKey(), peerStatic)) {
      return Drop.BAD_CERTIFICATE;
    }
    if (revoked.refuses(cert)) {
      return Drop.REVOKED;
    }
    ByteBuffer key = ByteBuffer.wrap(extra);
    if (verified.get(key) == null) {
      if (!token()) {
        return Drop.VERIFY_LIMITED;
      }
      verifications++;
      if (!root.verify(cert, wall.instant())) {
        return Drop.BAD_CERTIFICATE;
      }
      verified.put(key, cert);
    } else if (wall.instant().isAfter(cert.notAfter())) {
      verified.remove(key);
      return Drop.BAD_CERTIFICATE;
    }
    lastAccepted = cert;
    return null;
  }

  private boolean token() {
    long now = nanos.getAsLong();
    tokens = Math.min(Math.max(1, verifyPerSecond), tokens + (now - tokensAt) * verifyPerSecond / TimeUnit.SECONDS.toNanos(1));
    tokensAt = now;
    if (tokens < 1) {
      return false;
    }
    tokens -= 1;
    return true;
  }
}
