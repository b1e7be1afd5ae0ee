/**
 * SemNet's UDP overlay between worker nodes: one socket per node, a link per peer, authenticated
 * datagrams under per-session keys, keepalive probes.
 *
 * <p>Exports only {@code io.semnet.tunnel} ({@link io.semnet.tunnel.UdpTunnel} and its value
 * types). The parts behind the façade live in {@code io.semnet.tunnel.internal.*}; the datagram
 * codec in {@code io.semnet.tunnel.internal} and the Noise handshake in
 * {@code io.semnet.tunnel.internal.noise} are visible to the benchmarks alone.
 */
module io.semnet.tunnel {
  requires transitive io.semnet.core;
  requires io.netty.buffer;
  requires io.netty.common;
  requires io.netty.transport;
  requires io.netty.transport.classes.epoll;
  requires io.netty.transport.unix.common;
  requires org.slf4j;
  requires static org.conscrypt; // optional: -Dsemnet.tunnel.aead=conscrypt with conscrypt-openjdk-uber on the path

  exports io.semnet.tunnel;
  exports io.semnet.tunnel.internal to io.semnet.bench;
  exports io.semnet.tunnel.internal.noise to io.semnet.bench;
}
