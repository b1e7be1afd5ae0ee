package io.semnet.tunnel.internal.conn;

import java.net.InetSocketAddress;

/**
 * Where the socket sends datagrams for one sender-side owner (a link, to the tunnel). The socket
 * reads {@link #address()} when it hands a datagram or a GSO run to the channel, so an owner whose
 * address changes is followed; it compares owners by identity to keep one run per owner.
 */
public interface Peer {
  /** The destination address as of now. */
  InetSocketAddress address();
}
