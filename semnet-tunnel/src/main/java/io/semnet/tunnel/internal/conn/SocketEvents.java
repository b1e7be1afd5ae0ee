package io.semnet.tunnel.internal.conn;

import io.semnet.tunnel.DropReason;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * What a {@link BatchedUdpSocket} reports to its owner. {@link #onDatagram} and {@link #onBatchEnd}
 * run on the socket's event loop; {@link #onDrop} runs on whichever thread dropped.
 *
 * @param <P> the owner type senders attach to their datagrams
 */
public interface SocketEvents<P extends Peer> {
  /** One received datagram, position to limit; valid only during the call. */
  void onDatagram(ByteBuffer datagram, InetSocketAddress from);

  /** The end of one read batch (after the batch's datagrams). */
  void onBatchEnd();

  /** A datagram dropped by the socket; {@code peer} is null when it belonged to no sender. */
  void onDrop(DropReason reason, P peer);

  /** The event loop's error policy: everything thrown by the callbacks above goes there. */
  LoopErrors errors();
}
