package io.semnet.tunnel.internal.device;

import io.semnet.core.node.TunnelReceiver;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.tunnel.CipherSuite;
import io.semnet.tunnel.DropReason;
import io.semnet.tunnel.internal.Datagram;
import io.semnet.tunnel.internal.conn.SocketEvents;
import io.semnet.tunnel.internal.handshake.Handshake;
import io.semnet.tunnel.internal.link.Drops;
import io.semnet.tunnel.internal.link.IndexTable;
import io.semnet.tunnel.internal.link.Link;
import io.semnet.tunnel.internal.link.LinkTable;
import io.semnet.tunnel.internal.link.Session;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

/**
 * Receive dispatch on the event loop: checks a datagram's header, hands handshake messages to the
 * {@link Handshake}, finds the session by the receiver index (never by source address), refuses
 * retired and expired sessions, checks the replay window, opens the body, confirms a responder
 * session on its first datagram (it then replaces the live one), follows the peer to a new source
 * address seen on an authenticated datagram, delivers data and notices to the
 * {@link TunnelReceiver}, answers probes and records probe RTTs. A datagram that fails any check
 * is dropped, counted by {@link DropReason} and creates no state.
 */
public final class Dispatcher implements SocketEvents<Link> {
  private final CipherSuite suite;
  private final boolean plaintext;
  private final LinkTable links;
  private final IndexTable indexes;
  private final long rejectAfterNanos;
  private final Handshake handshake;
  private final Transmitter tx;
  private final Drops drops;
  private final TunnelReceiver receiver;
  private final LocalNodeView view;
  private final io.semnet.tunnel.internal.conn.LoopErrors errors;
  private final ByteBuffer rxIn;
  private final ByteBuffer rxScratch;
  private final OldVersionPeers oldVersionPeers;

  /** @param view told probe RTTs; may be null */
  public Dispatcher(String nodeId, CipherSuite suite, boolean plaintext, int maxDatagramBytes, LinkTable links, IndexTable indexes, long rejectAfterNanos,
      Handshake handshake, Transmitter tx, Drops drops, TunnelReceiver receiver, LocalNodeView view,
      io.semnet.tunnel.internal.conn.LoopErrors errors) {
    this.errors = errors;
    this.oldVersionPeers = new OldVersionPeers(nodeId);
    this.suite = suite;
    this.plaintext = plaintext;
    this.links = links;
    this.indexes = indexes;
    this.rejectAfterNanos = rejectAfterNanos;
    this.handshake = handshake;
    this.tx = tx;
    this.drops = drops;
    this.receiver = receiver;
    this.view = view;
    this.rxIn = ByteBuffer.allocate(maxDatagramBytes);
    this.rxScratch = ByteBuffer.allocate(maxDatagramBytes);
  }

  @Override
  public io.semnet.tunnel.internal.conn.LoopErrors errors() {
    return errors;
  }

  @Override
  public void onBatchEnd() {
    receiver.onTunnelBatchEnd();
  }

  @Override
  public void onDrop(DropReason reason, Link link) {
    drops.dropMaybeLink(reason, link);
  }

  /** Handles one received datagram (position to limit). */
  @Override
  public void onDatagram(ByteBuffer d, InetSocketAddress from) {
    int len = d.remaining();
    if (len < 4) {
      drops.drop(DropReason.TRUNCATED);
      return;
    }
    int version = Datagram.version(d);
    if (version != Datagram.VERSION) {
      if (version == 1) {
        drops.drop(DropReason.UNSUPPORTED_VERSION);
        oldVersionPeers.seen(from);
      } else {
        drops.drop(DropReason.UNKNOWN_VERSION);
      }
      return;
    }
    int type = Datagram.type(d);
    if (!Datagram.knownType(type)) {
      drops.drop(DropReason.UNKNOWN_TYPE);
      return;
    }
    if (!Datagram.transportType(type)) {
      handshake.onMessage(type, d, from);
      return;
    }
    if (len < Datagram.size(0, plaintext)) {
      drops.drop(DropReason.TRUNCATED);
      return;
    }
    int flags = Datagram.flags(d);
    if (((flags & Datagram.FLAG_PLAINTEXT) != 0) != plaintext || (flags & ~Datagram.FLAG_PLAINTEXT) != 0 || Datagram.reserved(d) != 0) {
      drops.drop(DropReason.MODE_MISMATCH);
      return;
    }
    IndexTable.Entry e = indexes.get(Datagram.receiverIndex(d));
    if (!(e instanceof Session s)) {
      drops.drop(DropReason.UNKNOWN_PEER);
      return;
    }
    Link link = s.link;
    if (link.closed || (s != link.current && s != link.previous && s != link.next)) {
      drops.drop(DropReason.STALE_KEY, link);
      return;
    }
    if (s.expired(System.nanoTime(), rejectAfterNanos)) {
      drops.drop(DropReason.KEY_EXPIRED, link);
      return;
    }
    int n = open(link, s, d, len);
    if (n < 0) {
      return;
    }
    if (s == link.next) {
      confirm(link, s);
    }
    if (!from.equals(link.endpoint.address())) {
      links.moveTo(link, from);
    }
    deliver(link, type, rxScratch, n);
  }

  /** Key confirmation: the initiator used the responder session, which now replaces the live one. */
  private void confirm(Link link, Session s) {
    link.next = null;
    link.generation++;
    link.install(s, indexes);
    tx.flushWaiting(link);
  }

  /** Checks the replay window and opens the body into rxScratch; its length, or -1 if dropped. */
  private int open(Link link, Session s, ByteBuffer d, int len) {
    long counter = Datagram.counter(d);
    if (!s.window.check(counter)) {
      drops.drop(DropReason.REPLAYED, link);
      return -1;
    }
    ByteBuffer in = rxIn;
    in.clear();
    in.put(0, d, d.position(), len).limit(len);
    ByteBuffer out = rxScratch;
    out.clear();
    int n = Datagram.open(suite, s.recvKey, in, out);
    if (n < 0) {
      drops.drop(DropReason.AUTH_FAILED, link);
      return -1;
    }
    s.window.commit(counter);
    out.flip();
    link.rxPackets.incrementAndGet();
    return n;
  }

  private void deliver(Link link, int type, ByteBuffer out, int n) {
    long now = System.nanoTime();
    link.lastReceivedNanos = now;
    switch (type) {
      case Datagram.TYPE_DATA:
        link.rxBytes.addAndGet(n);
        link.lastUsedNanos = now;
        receiver.onData(link.endpoint, out);
        break;
      case Datagram.TYPE_ROUTE_NOT_FOUND:
        if (n != 4 && n != 16) {
          drops.drop(DropReason.MALFORMED, link);
          return;
        }
        byte[] ip = new byte[n];
        out.get(ip);
        try {
          receiver.onRouteNotFound(link.endpoint, InetAddress.getByAddress(ip));
        } catch (UnknownHostException e) {
          drops.drop(DropReason.MALFORMED, link);
        }
        break;
      case Datagram.TYPE_PROBE:
        if (n != 8) {
          drops.drop(DropReason.MALFORMED, link);
          return;
        }
        Session reply = link.sendSession();
        if (reply != null) {
          tx.transmit(link, reply, Datagram.TYPE_PROBE_ECHO, out, false);
        }
        break;
      case Datagram.TYPE_PROBE_ECHO:
        if (n != 8) {
          drops.drop(DropReason.MALFORMED, link);
          return;
        }
        onEcho(link, out.getLong(0));
        break;
      default:
        drops.drop(DropReason.UNKNOWN_TYPE, link);
    }
  }

  private void onEcho(Link link, long sent) {
    if (link.probeOutstanding && sent == link.probeSentNanos) {
      long rtt = System.nanoTime() - sent;
      link.probeOutstanding = false;
      link.missedProbes = 0;
      link.lastRttNanos = rtt;
      link.up = true;
      if (view != null) {
        view.recordPeerRtt(link.nodeId, rtt);
      }
    }
  }
}
