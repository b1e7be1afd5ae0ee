package io.semnet.tunnel.internal.conn;

import io.semnet.core.node.BusyPoll;
import java.net.InetSocketAddress;

/**
 * Settings of a {@link BatchedUdpSocket}. Immutable.
 *
 * @param name used in the event-loop thread name and in log lines
 * @param bind local address and port
 * @param receiveBufferBytes SO_RCVBUF request
 * @param sendBufferBytes SO_SNDBUF request
 * @param batching recvmmsg and batched sendmmsg; off: one datagram per system call
 * @param udpGro UDP GRO on the socket
 * @param udpGso UDP GSO runs for coalescable datagrams (effective only with batching and kernel support)
 * @param maxDatagramBytes largest datagram without GRO
 * @param busyPoll how long the event loop polls without blocking after it last had work
 */
public record SocketConfig(
    String name,
    InetSocketAddress bind,
    int receiveBufferBytes,
    int sendBufferBytes,
    boolean batching,
    boolean udpGro,
    boolean udpGso,
    int maxDatagramBytes,
    BusyPoll busyPoll) {}
