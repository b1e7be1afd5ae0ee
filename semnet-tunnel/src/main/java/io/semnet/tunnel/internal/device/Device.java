package io.semnet.tunnel.internal.device;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.node.TunnelReceiver;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.tunnel.CipherSuite;
import io.semnet.tunnel.DropReason;
import io.semnet.tunnel.internal.Datagram;
import io.semnet.tunnel.internal.conn.BatchedUdpSocket;
import io.semnet.tunnel.internal.conn.LoopErrors;
import io.semnet.tunnel.internal.conn.SocketConfig;
import io.semnet.tunnel.internal.handshake.Handshake;
import io.semnet.tunnel.internal.handshake.Revocations;
import io.semnet.tunnel.internal.link.Drops;
import io.semnet.tunnel.internal.link.IndexTable;
import io.semnet.tunnel.internal.link.Link;
import io.semnet.tunnel.internal.link.LinkTable;
import io.semnet.tunnel.internal.link.Session;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * A started tunnel (after wireguard-go's {@code Device}): the socket, the link and index tables,
 * the handshake, the send path, the receive dispatch and the timers, wired together and bound.
 * {@code UdpTunnel} is the façade that configures one and delegates to it. Sending never blocks;
 * every packet it does not send is counted in {@link Drops}. Not API.
 */
public final class Device {
  /** What a device is made of, from the tunnel's builder. */
  public record Config(String nodeId, SocketConfig socket, int maxLinks, boolean plaintext, CipherSuite suite, int waitingPerLink,
      int maxDatagramBytes, long rejectAfterNanos, Handshake.Settings handshake, Timers.Settings timers) {}

  private final String nodeId;
  private final Drops drops;
  private final BatchedUdpSocket<Link> socket;
  private final LinkTable links;
  private final Transmitter tx;
  private final Handshake handshake;
  private final Dispatcher dispatcher;
  private final Timers timers;
  private volatile boolean running;

  /**
   * Creates the parts and binds the socket on the calling thread (so it lands in that thread's
   * network namespace); {@link #start} then starts the timers. {@code failed} hears of errors the
   * event loop could not recover from.
   */
  public Device(Config c, Drops drops, Revocations revocations, TunnelReceiver receiver, LocalNodeView view, Consumer<Throwable> failed) {
    this.nodeId = c.nodeId();
    this.drops = drops;
    BatchedUdpSocket<Link> s = new BatchedUdpSocket<>(c.socket());
    socket = s;
    IndexTable indexes = new IndexTable(4 * c.maxLinks() + 64);
    tx = new Transmitter(c.suite(), c.plaintext(), c.waitingPerLink(), s.out(), drops);
    LinkTable.Factory[] factory = new LinkTable.Factory[1];
    links = new LinkTable(c.maxLinks(), c.plaintext(), view, (peer, pub) -> factory[0].newLink(peer, pub),
        fresh -> s.eventLoop().execute(() -> startHandshake(fresh)));
    handshake = new Handshake(c.handshake(), revocations, indexes, links, s.out(), drops, tx);
    factory[0] = handshake;
    LoopErrors errors = new LoopErrors(nodeId, () -> drops.drop(DropReason.INTERNAL_ERROR), failed);
    dispatcher = new Dispatcher(nodeId, c.suite(), c.plaintext(), c.maxDatagramBytes(), links, indexes, c.rejectAfterNanos(), handshake, tx,
        drops, receiver, view, errors);
    timers = new Timers(nodeId, c.timers(), links, indexes, handshake, this::startHandshake, tx, s.out(), view, () -> running, errors);
  }

  /** Binds the socket and starts the timers; on failure everything opened so far is closed. */
  public void start() throws Exception {
    try {
      socket.open(dispatcher);
      running = true;
      timers.start(socket.eventLoop());
    } catch (Exception e) {
      close();
      throw e;
    }
  }

  /** Seals and sends one data packet to {@code peer}, or holds it while the link's handshake runs. */
  public void send(WorkerEndpoint peer, ByteBuffer packet) {
    Link link = links.forPeer(peer);
    if (link == null) {
      drops.drop(DropReason.SEND_FAILED);
      return;
    }
    link.lastUsedNanos = System.nanoTime();
    Session s = link.sendSession();
    if (s == null || link.waitingCount != 0) {
      // No session yet, or packets still wait for the one just made: queue behind them (order is kept).
      if (tx.hold(link, packet) && s == null) {
        // The link's session expired (or never came): make sure a handshake runs.
        socket.eventLoop().execute(() -> {
          if (!link.handshakePending() && link.current == null) {
            startHandshake(link);
          }
        });
      }
      return;
    }
    tx.transmit(link, s, Datagram.TYPE_DATA, packet, false);
  }

  /** True if a packet to {@code peer} would be sealed and sent at once. */
  public boolean isReady(WorkerEndpoint peer) {
    Link link = links.forPeer(peer);
    return link != null && link.sendSession() != null && link.waitingCount == 0;
  }

  /** Tells {@code peer}, over an established link only, that {@code namespaceIp} has no route here. */
  public void sendRouteNotFound(WorkerEndpoint peer, InetAddress namespaceIp) {
    Link link = links.forPeer(peer);
    Session s = link == null ? null : link.sendSession();
    if (s == null) {
      // Notices answer data that arrived over an established link; without one there is nobody to tell.
      drops.drop(DropReason.QUEUE_FULL);
      return;
    }
    tx.transmit(link, s, Datagram.TYPE_ROUTE_NOT_FOUND, ByteBuffer.wrap(namespaceIp.getAddress()), true);
  }

  /** Pushes out what the calling thread sent. */
  public void flush() {
    socket.out().flush();
  }

  /** Starts a new handshake with an established peer (key rotation on demand). */
  public void rekey(String peerNodeId) {
    Link l = links.get(peerNodeId);
    if (l != null) {
      socket.eventLoop().execute(() -> startHandshake(l));
    }
  }

  /** Closes, on the event loop, the links that revoked identities hold. */
  public void closeRevokedLinks() {
    socket.eventLoop().execute(handshake::closeRevokedLinks);
  }

  /** Stops the timers, closes the socket and every link. Idempotent. */
  public void close() {
    running = false;
    timers.stop();
    socket.close();
    links.clear();
  }

  public BatchedUdpSocket<Link> socket() {
    return socket;
  }

  public LinkTable links() {
    return links;
  }

  public Handshake handshake() {
    return handshake;
  }

  /** Handles one received datagram as if read from the socket (tests and the fuzz target). */
  public void onDatagram(ByteBuffer d, InetSocketAddress from) {
    dispatcher.onDatagram(d, from);
  }

  private void startHandshake(Link link) {
    if (link.closed || !running) {
      return;
    }
    handshake.start(link);
  }
}
