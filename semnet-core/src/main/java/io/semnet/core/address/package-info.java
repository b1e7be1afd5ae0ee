/**
 * Address kinds: {@link io.semnet.core.address.ServiceIp}, {@link io.semnet.core.address.InstanceIp},
 * worker endpoints and prefixes. Namespace IPs (the physical place of an instance) are plain
 * {@link java.net.InetAddress} values inside a {@link io.semnet.core.record.Locator}.
 */
package io.semnet.core.address;
