/**
 * Linux access for a node: the TUN device ({@link io.semnet.proxy.tun.TunDevice}, JNA), running
 * code inside a named network namespace ({@link io.semnet.proxy.tun.NetworkNamespace}) and the
 * bridge/veth/route plumbing samples and tests need ({@link io.semnet.proxy.tun.NetworkPlumbing}).
 */
package io.semnet.proxy.tun;
