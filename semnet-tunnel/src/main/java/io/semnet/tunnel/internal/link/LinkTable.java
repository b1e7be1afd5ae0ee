package io.semnet.tunnel.internal.link;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.policy.LocalNodeView;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The tunnel's links, by peer node id (datagrams find their session by receiver index in the
 * {@link IndexTable}, never by source address): at most {@code maxLinks}, the
 * least recently used (by last data sent or received) closed for a new one. Lookups are lock-free;
 * changes hold one lock. A closed link releases its waiting packets and is forgotten by the node's
 * {@link LocalNodeView}.
 */
public final class LinkTable {
  /** Makes a link for a peer key, or null if the key is unusable. */
  public interface Factory {
    Link newLink(WorkerEndpoint peer, byte[] publicKey);
  }

  private final ConcurrentHashMap<String, Link> links = new ConcurrentHashMap<>();
  private final Object lock = new Object();
  private final int maxLinks;
  private final boolean plaintext;
  private final LocalNodeView view;
  private final Factory factory;
  private final Consumer<Link> onOutboundOpened;
  private final AtomicLong opened = new AtomicLong();
  private final AtomicLong evicted = new AtomicLong();
  private final AtomicLong idleClosed = new AtomicLong();

  /**
   * @param view told about closed links; may be null
   * @param onOutboundOpened called (outside the lock) with a link opened by {@link #forPeer}; starts its handshake
   */
  public LinkTable(int maxLinks, boolean plaintext, LocalNodeView view, Factory factory, Consumer<Link> onOutboundOpened) {
    this.maxLinks = maxLinks;
    this.plaintext = plaintext;
    this.view = view;
    this.factory = factory;
    this.onOutboundOpened = onOutboundOpened;
  }

  /** The link to a peer node, or null. */
  public Link get(String nodeId) {
    return links.get(nodeId);
  }

  /** The open links (a live view). */
  public Collection<Link> all() {
    return links.values();
  }

  /** The open link to {@code peer} with its current key, opening one (and its handshake) if needed; null if the key is unusable. */
  public Link forPeer(WorkerEndpoint peer) {
    Link l = links.get(peer.nodeId());
    if (l != null && !l.closed && (plaintext || peer.hasPublicKey(l.peerPublicKey))) {
      return l;
    }
    return openOutbound(peer);
  }

  private Link openOutbound(WorkerEndpoint peer) {
    Link fresh;
    synchronized (lock) {
      Link l = links.get(peer.nodeId());
      if (l != null && !l.closed && (plaintext || peer.hasPublicKey(l.peerPublicKey))) {
        return l;
      }
      byte[] pub = peer.publicKey();
      fresh = factory.newLink(peer, pub);
      if (fresh == null) {
        return null;
      }
      if (l != null) {
        close(l);
      }
      install(fresh);
    }
    onOutboundOpened.accept(fresh);
    return fresh;
  }

  /** Installs (or finds) the link for an authenticated initiation from {@code peerId} with key {@code pub}; null if the key is unusable. */
  public Link acceptInbound(String peerId, byte[] pub, InetSocketAddress from) {
    synchronized (lock) {
      Link existing = links.get(peerId);
      if (existing != null && !existing.closed && (plaintext || Arrays.equals(existing.peerPublicKey, pub))) {
        return existing;
      }
      Link l = factory.newLink(WorkerEndpoint.of(peerId, from, pub), pub);
      if (l == null) {
        return null;
      }
      if (existing != null) {
        close(existing);
      }
      install(l);
      return l;
    }
  }

  /** Adds a link, closing the least recently used one if the limit is reached. Caller holds the lock. */
  private void install(Link l) {
    while (links.size() >= maxLinks) {
      Link lru = null;
      for (Link x : links.values()) {
        if (lru == null || x.lastUsedNanos - lru.lastUsedNanos < 0) {
          lru = x;
        }
      }
      if (lru == null) {
        break;
      }
      close(lru);
      evicted.incrementAndGet();
    }
    links.put(l.nodeId, l);
    opened.incrementAndGet();
  }

  /** Closes a link: removed from the table, waiting packets released, the peer forgotten by the view. */
  public void close(Link l) {
    synchronized (lock) {
      l.closed = true;
      links.remove(l.nodeId, l);
      l.releaseWaiting();
    }
    if (view != null) {
      view.forgetPeer(l.nodeId);
    }
  }

  /** Closes a link that carried no data for the idle timeout. */
  public void closeIdle(Link l) {
    close(l);
    idleClosed.incrementAndGet();
  }

  /** Sends to the peer's new address from now on (NAT rebinding, seen on an authenticated datagram). */
  public void moveTo(Link l, InetSocketAddress observed) {
    if (!observed.equals(l.endpoint.address())) {
      l.endpoint = WorkerEndpoint.of(l.nodeId, observed, l.peerPublicKey);
    }
  }

  /** Drops every link (on close), releasing waiting packets; the view is not told. */
  public void clear() {
    synchronized (lock) {
      for (Link l : links.values()) {
        l.releaseWaiting();
      }
      links.clear();
    }
  }

  /** Links opened so far (outbound and inbound). */
  public long opened() {
    return opened.get();
  }

  /** Links closed to make room at {@code maxLinks}. */
  public long evicted() {
    return evicted.get();
  }

  /** Links closed by the idle sweep. */
  public long idleClosed() {
    return idleClosed.get();
  }
}
