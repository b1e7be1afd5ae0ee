/**
 * SemNet's data path: the packet translator ({@link io.semnet.proxy.SemnetTranslator}, configured
 * by {@link io.semnet.proxy.TranslatorBuilder}, observed through {@link io.semnet.proxy.Counter}
 * and {@link io.semnet.proxy.MigrationHoldStats}) and Linux access (TUN device, network
 * namespaces, bridge/veth/route plumbing in {@code io.semnet.proxy.tun}).
 *
 * <p>Every exported package is public API. The translator's parts ({@code io.semnet.proxy.internal})
 * are not exported; the packet helpers ({@code io.semnet.proxy.internal.packet}: parsing,
 * checksums, TCP segmentation and coalescing) are visible to the benchmarks alone.
 */
module io.semnet.proxy {
  requires transitive io.semnet.core;
  requires com.sun.jna;
  requires io.netty.common;
  requires org.slf4j;

  exports io.semnet.proxy;
  exports io.semnet.proxy.tun;
  exports io.semnet.proxy.internal.packet to io.semnet.bench;
}
