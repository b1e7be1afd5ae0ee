/**
 * The SemNet UDP overlay between worker nodes: {@link io.semnet.tunnel.UdpTunnel} (one socket per
 * node, per-peer links, sealed datagrams, keepalive probes), the node key pair
 * {@link io.semnet.tunnel.NodeKeys}, and the counters it exposes. Datagram format, key design and
 * threat model: the module README.
 */
package io.semnet.tunnel;
