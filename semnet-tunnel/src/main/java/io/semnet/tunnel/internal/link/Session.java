package io.semnet.tunnel.internal.link;

import io.semnet.tunnel.internal.ReplayWindow;
import javax.crypto.SecretKey;

/**
 * One handshake's keys with a peer. Keys are null in plaintext mode. The replay window and the
 * confirmed flag are touched only by the receiving event loop; sessions are published to senders
 * through volatile fields of {@link Link}.
 */
public final class Session {
  public final int keyId;
  public final int peerEpoch;
  public final SecretKey sendKey;
  public final SecretKey recvKey;
  public final boolean initiator;
  public final long createdNanos;
  public final ReplayWindow window = new ReplayWindow();
  /** Responder side: false until the initiator used the new keys (until then it still sends under the previous session). */
  public volatile boolean confirmed;

  public Session(int keyId, int peerEpoch, SecretKey sendKey, SecretKey recvKey, boolean initiator, long createdNanos, boolean confirmed) {
    this.keyId = keyId;
    this.peerEpoch = peerEpoch;
    this.sendKey = sendKey;
    this.recvKey = recvKey;
    this.initiator = initiator;
    this.createdNanos = createdNanos;
    this.confirmed = confirmed;
  }
}
