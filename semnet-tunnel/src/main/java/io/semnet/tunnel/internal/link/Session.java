package io.semnet.tunnel.internal.link;

import io.semnet.tunnel.internal.ReplayWindow;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.SecretKey;

/**
 * One handshake's keys with a peer, found by the receiver index this node chose
 * ({@link #localIndex}); datagrams to the peer carry the peer's index ({@link #remoteIndex}).
 * Keys are null in plaintext mode. Every handshake gives fresh keys, so the send counter starts at
 * 0 for each session and a (key, nonce) pair never repeats. The replay window belongs to the
 * receiving event loop; the counter is shared by sending threads; sessions are published through
 * volatile fields of {@link Link}.
 */
public final class Session implements IndexTable.Entry {
  public final Link link;
  public final int keyId;
  public final int localIndex;
  public final int remoteIndex;
  public final SecretKey sendKey;
  public final SecretKey recvKey;
  public final boolean initiator;
  public final long createdNanos;
  public final ReplayWindow window = new ReplayWindow();
  public final AtomicLong counter = new AtomicLong();

  public Session(Link link, int keyId, int localIndex, int remoteIndex, SecretKey sendKey, SecretKey recvKey, boolean initiator,
      long createdNanos) {
    this.link = link;
    this.keyId = keyId;
    this.localIndex = localIndex;
    this.remoteIndex = remoteIndex;
    this.sendKey = sendKey;
    this.recvKey = recvKey;
    this.initiator = initiator;
    this.createdNanos = createdNanos;
  }

  @Override
  public Link link() {
    return link;
  }

  /** Whether this session's keys are past {@code rejectAfterNanos} at {@code now}. */
  public boolean expired(long now, long rejectAfterNanos) {
    return now - createdNanos >= rejectAfterNanos;
  }
}
