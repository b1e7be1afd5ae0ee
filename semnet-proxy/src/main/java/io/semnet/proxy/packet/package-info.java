/**
 * Allocation-free packet access: {@link io.semnet.proxy.packet.PacketView} parses IPv4/IPv6 with
 * TCP, UDP, ICMP and ICMPv6 in place, {@link io.semnet.proxy.packet.Checksums} does RFC 1071 sums
 * and RFC 1624 incremental updates.
 */
package io.semnet.proxy.packet;
