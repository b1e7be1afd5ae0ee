package io.semnet.tunnel.internal.link;

import io.netty.buffer.ByteBuf;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.tunnel.LinkStats;
import io.semnet.tunnel.internal.conn.Peer;
import java.net.InetSocketAddress;
import java.security.PrivateKey;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Per-peer state on the tunnel's one socket: where the peer is, its handshake keys and sessions,
 * the send counter, packets waiting for a handshake, probe state and counters. Handshake and probe
 * fields belong to the event loop; senders read the volatile sessions and bump the atomics. Fields
 * are public for the tunnel's parts (send path, handshake, receive dispatch, timers); not API.
 */
public final class Link implements Peer {
  public final String nodeId;
  public final byte[] peerPublicKey;
  /** Handshake keys (static-static, per direction); null in plaintext mode. */
  public final javax.crypto.SecretKey hsSendKey;
  public final javax.crypto.SecretKey hsRecvKey;
  /** HKDF pseudo-random key from the static-static agreement, the salt of every session's keys. */
  public final byte[] prk0;

  public volatile WorkerEndpoint endpoint;
  public volatile Session current;
  public volatile Session previous;
  public volatile boolean closed;

  public final AtomicLong counter = new AtomicLong();
  public volatile long lastUsedNanos;

  // Initiator handshake in progress (event loop only).
  public PrivateKey ephPrivate;
  public byte[] ephPublic;
  public int pendingKeyId = -1;
  public long helloCounter = -1;
  public long helloSentNanos;
  public int helloAttempts;

  // Last first contact accepted from the peer (event loop only).
  public int lastHelloEpoch;
  public long lastHelloCounter = -1;

  /** Packets waiting for the first session (guarded by itself). */
  public final ArrayDeque<ByteBuf> waiting = new ArrayDeque<>();

  // Probes (event loop only, except lastRtt/up read by stats).
  public long probeSentNanos;
  public boolean probeOutstanding;
  public int missedProbes;
  public volatile long lastRttNanos = -1;
  public volatile boolean up = true;

  public final AtomicLong txPackets = new AtomicLong();
  public final AtomicLong txBytes = new AtomicLong();
  public final AtomicLong rxPackets = new AtomicLong();
  public final AtomicLong rxBytes = new AtomicLong();
  public final AtomicLong drops = new AtomicLong();

  public Link(WorkerEndpoint endpoint, byte[] peerPublicKey, javax.crypto.SecretKey hsSendKey, javax.crypto.SecretKey hsRecvKey, byte[] prk0, long now) {
    this.nodeId = endpoint.nodeId();
    this.endpoint = endpoint;
    this.peerPublicKey = peerPublicKey;
    this.hsSendKey = hsSendKey;
    this.hsRecvKey = hsRecvKey;
    this.prk0 = prk0;
    this.lastUsedNanos = now;
  }

  public boolean handshakePending() {
    return pendingKeyId >= 0;
  }

  /** The session to send under: the current one unless it is an unconfirmed responder session and an older one still works. */
  public Session sendSession() {
    Session c = current;
    if (c != null && !c.confirmed) {
      Session p = previous;
      if (p != null) {
        return p;
      }
    }
    return c;
  }

  @Override
  public InetSocketAddress address() {
    return endpoint.address();
  }

  /** Releases the packets still waiting for a session. */
  public void releaseWaiting() {
    synchronized (waiting) {
      ByteBuf b;
      while ((b = waiting.poll()) != null) {
        b.release();
      }
    }
  }

  /** A snapshot of this link's counters. */
  public LinkStats stats() {
    Session c = current;
    return new LinkStats(endpoint, c != null, c == null ? -1 : c.keyId, txPackets.get(), txBytes.get(),
        rxPackets.get(), rxBytes.get(), drops.get(), lastRttNanos, up);
  }
}
