/**
 * Allocation-free packet access, internal to the proxy (exported to the benchmarks only):
 * {@link io.semnet.proxy.internal.packet.PacketView} parses IPv4/IPv6 with TCP, UDP, ICMP and
 * ICMPv6 in place, {@link io.semnet.proxy.internal.packet.Checksums} does RFC 1071 sums and
 * RFC 1624 incremental updates, {@link io.semnet.proxy.internal.packet.AddressWords} and
 * {@link io.semnet.proxy.internal.packet.AddressRewriter} hold addresses as two longs and rewrite
 * them in place, {@link io.semnet.proxy.internal.packet.TcpSegmenter} and
 * {@link io.semnet.proxy.internal.packet.TcpCoalescer} cut and merge TCP super-packets for the
 * TUN offloads.
 */
package io.semnet.proxy.internal.packet;
