package io.semnet.tunnel.internal.link;

import io.netty.buffer.ByteBuf;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.tunnel.LinkStats;
import io.semnet.tunnel.internal.conn.Peer;
import io.semnet.tunnel.internal.noise.CookieGenerator;
import io.semnet.tunnel.internal.noise.Handshake;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Per-peer state on the tunnel's one socket: where the peer is, its static key, its sessions
 * ({@link #current} to send and receive, {@link #previous} to receive during the key grace,
 * {@link #next}: a responder session waiting for key confirmation), the pending initiation, packets
 * waiting for a handshake, probe state and counters. Handshake and probe fields belong to the event
 * loop; senders read the volatile sessions and bump the atomics. Fields are public for the tunnel's
 * parts; not API.
 */
public final class Link implements Peer {
  public final String nodeId;
  public final byte[] peerPublicKey;
  /** mac1/mac2 for messages to this peer (keeps the peer's cookie across handshakes); null in plaintext mode. */
  public final CookieGenerator cookies;

  public volatile WorkerEndpoint endpoint;
  public volatile Session current;
  public volatile Session previous;
  /** Responder session not yet confirmed by the initiator's first datagram under it (event loop only). */
  public Session next;
  public volatile boolean closed;
  public volatile long lastUsedNanos;
  /** When the last authenticated datagram (data, probe, echo, notice) came from the peer. */
  public volatile long lastReceivedNanos;
  /** The certificate this link's peer last proved with an initiation, or null (this node initiated: it never sees the peer's). */
  public io.semnet.core.trust.NodeCertificate certificate;
  /** Handshakes completed on this link (the key id in stats). */
  public int generation = -1;

  // Initiator handshake in progress (event loop only).
  public Pending pending;
  public long helloSentNanos;
  public int helloAttempts;
  public boolean cookieRetried;

  /** Packets waiting for the first session (guarded by itself). */
  public final ArrayDeque<ByteBuf> waiting = new ArrayDeque<>();
  /** {@code waiting.size()}, readable without the lock: while it is not 0, senders queue behind (order is kept). */
  public volatile int waitingCount;

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

  public Link(WorkerEndpoint endpoint, byte[] peerPublicKey, CookieGenerator cookies, long now) {
    this.nodeId = endpoint.nodeId();
    this.endpoint = endpoint;
    this.peerPublicKey = peerPublicKey;
    this.cookies = cookies;
    this.lastUsedNanos = now;
    this.lastReceivedNanos = now;
  }

  /** An initiation in flight under this node's receiver index {@code index}; {@code noise} is null in plaintext mode. */
  public record Pending(Link link, int index, Handshake.Pending noise) implements IndexTable.Entry {}

  public boolean handshakePending() {
    return pending != null;
  }

  /** Makes {@code fresh} the current session; the current one becomes the previous (receive only, for the key grace), whose index is retired. Event loop only. */
  public void install(Session fresh, IndexTable indexes) {
    Session cur = current;
    if (cur != null) {
      Session prev = previous;
      if (prev != null) {
        indexes.remove(prev.localIndex, prev);
      }
      previous = cur;
    }
    current = fresh;
  }

  /** The session to send under (the confirmed current one), or null. */
  public Session sendSession() {
    return current;
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
      waitingCount = 0;
    }
  }

  /** A snapshot of this link's counters. */
  public LinkStats stats() {
    Session c = current;
    return new LinkStats(endpoint, c != null, c == null ? -1 : c.keyId, txPackets.get(), txBytes.get(),
        rxPackets.get(), rxBytes.get(), drops.get(), lastRttNanos, up, c == null ? -1 : System.nanoTime() - c.createdNanos);
  }
}
