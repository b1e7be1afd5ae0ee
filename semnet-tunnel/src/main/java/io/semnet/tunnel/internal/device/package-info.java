/**
 * The tunnel's device side over the socket (after wireguard-go's {@code device} package): the
 * sealing send path, receive dispatch and the timers. Not API.
 */
package io.semnet.tunnel.internal.device;
