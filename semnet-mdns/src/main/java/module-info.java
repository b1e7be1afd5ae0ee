/**
 * SemNet's name responder: mDNS (RFC 6762) and unicast DNS for semantic names on a node's bridge.
 *
 * <p>Exports only {@code io.semnet.mdns}; the socket-free query engine and the wire helpers in
 * {@code io.semnet.mdns.internal} are visible to the benchmarks alone.
 */
module io.semnet.mdns {
  requires transitive io.semnet.core;
  requires io.netty.buffer;
  requires io.netty.codec;
  requires io.netty.codec.dns;
  requires io.netty.common;
  requires io.netty.transport;
  requires io.netty.transport.classes.epoll;
  requires io.netty.transport.unix.common;
  requires org.slf4j;

  exports io.semnet.mdns;
  exports io.semnet.mdns.internal to io.semnet.bench;
}
