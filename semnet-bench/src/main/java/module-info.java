/**
 * SemNet's JMH benchmarks and load runs. Not an API: it exports nothing. It is the one module the
 * library modules open selected internals to ({@code exports … to io.semnet.bench}), so a
 * benchmark can measure a part the public API does not expose on its own.
 */
module io.semnet.bench {
  requires io.semnet.core;
  requires io.semnet.proxy;
  requires io.semnet.tunnel;
  requires io.semnet.resolver;
  requires io.semnet.control;
  requires io.semnet.mqtt;
  requires io.semnet.mdns;
  requires io.semnet.testkit;
  requires io.netty.buffer;
  requires io.netty.common;
  requires io.netty.transport;
  requires com.fasterxml.jackson.databind;
  requires jmh.core;
  requires java.management;
  requires jdk.management;
}
