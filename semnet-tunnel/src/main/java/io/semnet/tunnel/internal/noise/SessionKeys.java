package io.semnet.tunnel.internal.noise;

import io.semnet.tunnel.CipherSuite;
import java.util.concurrent.TimeUnit;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * What a completed handshake gives the data path: the send and receive keys (Noise Split: the
 * initiator sends with the first key, the responder with the second), this side's and the peer's
 * receiver indexes (a datagram to this node carries {@code localIndex}, one to the peer
 * {@code remoteIndex}), the peer's static key, the handshake hash and the creation time. Every key
 * must be refused {@link #REJECT_AFTER_TIME_NANOS} after creation ({@link #expired}). Immutable;
 * array accessors return copies.
 */
public record SessionKeys(CipherSuite suite, boolean initiator, int localIndex, int remoteIndex, byte[] sendKey, byte[] receiveKey,
    byte[] peerStatic, byte[] handshakeHash, long createdNanos) {
  /** WireGuard's Reject-After-Time: 180 s. */
  public static final long REJECT_AFTER_TIME_NANOS = TimeUnit.SECONDS.toNanos(180);

  /** Copies the arrays. */
  public SessionKeys {
    sendKey = sendKey.clone();
    receiveKey = receiveKey.clone();
    peerStatic = peerStatic.clone();
    handshakeHash = handshakeHash.clone();
  }

  /** Whether these keys are past {@link #REJECT_AFTER_TIME_NANOS} at {@code nowNanos} (same clock as creation). */
  public boolean expired(long nowNanos) {
    return nowNanos - createdNanos >= REJECT_AFTER_TIME_NANOS;
  }

  /** The send key as a JCA key for {@link #suite}. */
  public SecretKey sendSecretKey() {
    return new SecretKeySpec(sendKey, suite.keyAlgorithm());
  }

  /** The receive key as a JCA key for {@link #suite}. */
  public SecretKey receiveSecretKey() {
    return new SecretKeySpec(receiveKey, suite.keyAlgorithm());
  }

  @Override public byte[] sendKey() { return sendKey.clone(); }
  @Override public byte[] receiveKey() { return receiveKey.clone(); }
  @Override public byte[] peerStatic() { return peerStatic.clone(); }
  @Override public byte[] handshakeHash() { return handshakeHash.clone(); }

  @Override
  public String toString() {
    return "SessionKeys[" + suite + ", initiator=" + initiator + ", local=" + Integer.toUnsignedString(localIndex) + ", remote="
        + Integer.toUnsignedString(remoteIndex) + ", created=" + createdNanos + "]";
  }
}
