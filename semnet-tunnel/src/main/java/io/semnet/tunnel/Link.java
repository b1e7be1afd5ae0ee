package io.semnet.tunnel;

import io.netty.buffer.ByteBuf;
import io.semnet.core.address.WorkerEndpoint;
import java.security.PrivateKey;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Per-peer state on the tunnel's one socket: where the peer is, its handshake keys and sessions,
 * the send counter, packets waiting for a handshake, probe state and counters. Handshake and probe
 * fields belong to the event loop; senders read the volatile sessions and bump the atomics.
 */
final class Link {
  final String nodeId;
  final byte[] peerPublicKey;
  /** Handshake keys (static-static, per direction); null in plaintext mode. */
  final javax.crypto.SecretKey hsSendKey;
  final javax.crypto.SecretKey hsRecvKey;
  /** HKDF pseudo-random key from the static-static agreement, the salt of every session's keys. */
  final byte[] prk0;

  volatile WorkerEndpoint endpoint;
  volatile Session current;
  volatile Session previous;
  volatile boolean closed;

  final AtomicLong counter = new AtomicLong();
  volatile long lastUsedNanos;

  // Initiator handshake in progress (event loop only).
  PrivateKey ephPrivate;
  byte[] ephPublic;
  int pendingKeyId = -1;
  long helloCounter = -1;
  long helloSentNanos;
  int helloAttempts;

  // Last first contact accepted from the peer (event loop only).
  int lastHelloEpoch;
  long lastHelloCounter = -1;

  /** Packets waiting for the first session (guarded by itself). */
  final ArrayDeque<ByteBuf> waiting = new ArrayDeque<>();

  // Probes (event loop only, except lastRtt/up read by stats).
  long probeSentNanos;
  boolean probeOutstanding;
  int missedProbes;
  volatile long lastRttNanos = -1;
  volatile boolean up = true;

  final AtomicLong txPackets = new AtomicLong();
  final AtomicLong txBytes = new AtomicLong();
  final AtomicLong rxPackets = new AtomicLong();
  final AtomicLong rxBytes = new AtomicLong();
  final AtomicLong drops = new AtomicLong();

  Link(WorkerEndpoint endpoint, byte[] peerPublicKey, javax.crypto.SecretKey hsSendKey, javax.crypto.SecretKey hsRecvKey, byte[] prk0, long now) {
    this.nodeId = endpoint.nodeId();
    this.endpoint = endpoint;
    this.peerPublicKey = peerPublicKey;
    this.hsSendKey = hsSendKey;
    this.hsRecvKey = hsRecvKey;
    this.prk0 = prk0;
    this.lastUsedNanos = now;
  }

  boolean handshakePending() {
    return pendingKeyId >= 0;
  }

  /** The session to send under: the current one unless it is an unconfirmed responder session and an older one still works. */
  Session sendSession() {
    Session c = current;
    if (c != null && !c.confirmed) {
      Session p = previous;
      if (p != null) {
        return p;
      }
    }
    return c;
  }

  LinkStats stats() {
    Session c = current;
    return new LinkStats(endpoint, c != null, c == null ? -1 : c.keyId, txPackets.get(), txBytes.get(),
        rxPackets.get(), rxBytes.get(), drops.get(), lastRttNanos, up);
  }
}
