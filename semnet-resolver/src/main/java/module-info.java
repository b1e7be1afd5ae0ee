/**
 * SemNet's worker side of the control plane: the lazy {@link io.semnet.resolver.WorkerResolver}
 * and its route cache, record verification, the control protocol's messages and its one wire codec
 * ({@link io.semnet.resolver.protocol.WireCodec}), the transport SPI and the in-process transport.
 *
 * <p>Every exported package is public API. The service managers ({@code io.semnet.control}) and
 * the MQTT transport ({@code io.semnet.mqtt}) build on this module, never the reverse; the shared
 * plumbing they need (the upstream link, the ordered executor, the codec's JSON mapping) is
 * exported to them alone.
 */
module io.semnet.resolver {
  requires transitive io.semnet.core;
  requires transitive com.fasterxml.jackson.databind;
  requires com.github.benmanes.caffeine;
  requires org.slf4j;

  exports io.semnet.resolver;
  exports io.semnet.resolver.protocol;
  exports io.semnet.resolver.transport;
  exports io.semnet.resolver.enrol;
  exports io.semnet.resolver.internal to io.semnet.control, io.semnet.mqtt;
  exports io.semnet.resolver.protocol.internal to io.semnet.control, io.semnet.mqtt;
}
