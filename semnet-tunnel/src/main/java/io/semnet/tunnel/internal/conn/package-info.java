/**
 * Batched UDP socket I/O, knowing nothing about links, sessions or sealing: the Netty epoll
 * datagram channel, UDP GSO/GRO, the hand-over queue to the event loop and the sending-thread
 * fast path. The counterpart of wireguard-go's {@code conn} package. Not API.
 */
package io.semnet.tunnel.internal.conn;
