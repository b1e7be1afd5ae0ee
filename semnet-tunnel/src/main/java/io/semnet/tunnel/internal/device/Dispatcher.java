package io.semnet.tunnel.internal.device;

import io.semnet.core.node.TunnelReceiver;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.tunnel.CipherSuite;
import io.semnet.tunnel.DropReason;
import io.semnet.tunnel.internal.Datagram;
import io.semnet.tunnel.internal.conn.SocketEvents;
import io.semnet.tunnel.internal.handshake.Handshake;
import io.semnet.tunnel.internal.link.Drops;
import io.semnet.tunnel.internal.link.Link;
import io.semnet.tunnel.internal.link.LinkTable;
import io.semnet.tunnel.internal.link.Session;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

/**
 * Receive dispatch on the event loop: checks a datagram's header, hands handshake messages to the
 * {@link Handshake}, finds the link by sender address and the session by key id and epoch, checks
 * the replay window, opens the body and delivers data and notices to the {@link TunnelReceiver},
 * answers probes and records probe RTTs. A datagram that fails any check is dropped, counted by
 * {@link DropReason} and creates no state.
 */
public final class Dispatcher implements SocketEvents<Link> {
  private final CipherSuite suite;
  private final boolean plaintext;
  private final LinkTable links;
  private final Handshake handshake;
  private final Transmitter tx;
  private final Drops drops;
  private final TunnelReceiver receiver;
  private final LocalNodeView view;
  private final ByteBuffer rxIn;
  private final ByteBuffer rxScratch;

  /** @param view told probe RTTs; may be null */
  public Dispatcher(CipherSuite suite, boolean plaintext, int maxDatagramBytes, LinkTable links, Handshake handshake,
      Transmitter tx, Drops drops, TunnelReceiver receiver, LocalNodeView view) {
    this.suite = suite;
    this.plaintext = plaintext;
    this.links = links;
    this.handshake = handshake;
    this.tx = tx;
    this.drops = drops;
    this.receiver = receiver;
    this.view = view;
    this.rxIn = ByteBuffer.allocate(maxDatagramBytes);
    this.rxScratch = ByteBuffer.allocate(maxDatagramBytes);
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
    if (len < Datagram.HEADER_BYTES) {
      drops.drop(DropReason.TRUNCATED);
      return;
    }
    if (Datagram.version(d) != Datagram.VERSION) {
      drops.drop(DropReason.UNKNOWN_VERSION);
      return;
    }
    int type = Datagram.type(d);
    if (!Datagram.knownType(type)) {
      drops.drop(DropReason.UNKNOWN_TYPE);
      return;
    }
    int flags = Datagram.flags(d);
    if (((flags & Datagram.FLAG_PLAINTEXT) != 0) != plaintext || (flags & ~Datagram.FLAG_PLAINTEXT) != 0) {
      drops.drop(DropReason.MODE_MISMATCH);
      return;
    }
    if (type == Datagram.TYPE_FIRST_CONTACT) {
      handshake.onFirstContact(d, from);
      return;
    }
    if (type != Datagram.TYPE_FIRST_CONTACT_REPLY && len < Datagram.size(0, plaintext)) {
      drops.drop(DropReason.TRUNCATED);
      return;
    }
    Link link = links.atAddress(from);
    if (link == null || link.closed) {
      drops.drop(DropReason.UNKNOWN_PEER);
      return;
    }
    if (type == Datagram.TYPE_FIRST_CONTACT_REPLY) {
      handshake.onReply(link, d);
      return;
    }
    int n = open(link, d, len);
    if (n >= 0) {
      deliver(link, type, rxScratch, n);
    }
  }

  /** Picks the session by key id and epoch, checks the replay window and opens the body into rxScratch; its length, or -1 if dropped. */
  private int open(Link link, ByteBuffer d, int len) {
    int keyId = Datagram.keyId(d);
    int peerEpoch = Datagram.epoch(d);
    long counter = Datagram.counter(d);
    Session s = link.current;
    if (s == null || s.keyId != keyId || s.peerEpoch != peerEpoch) {
      s = link.previous;
      if (s == null || s.keyId != keyId || s.peerEpoch != peerEpoch) {
        drops.drop(DropReason.STALE_KEY, link);
        return -1;
      }
    }
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
    if (!s.confirmed) {
      s.confirmed = true;
    }
    out.flip();
    link.rxPackets.incrementAndGet();
    return n;
  }

  private void deliver(Link link, int type, ByteBuffer out, int n) {
    switch (type) {
      case Datagram.TYPE_DATA:
        link.rxBytes.addAndGet(n);
        link.lastUsedNanos = System.nanoTime();
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
