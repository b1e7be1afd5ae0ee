package io.semnet.mdns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.semnet.core.address.Addresses;
import io.semnet.core.node.SemnetNode;
import io.semnet.core.service.ServiceId;
import io.semnet.mdns.testing.FakeResolver;
import io.semnet.mdns.testing.Policies;
import io.semnet.mdns.testing.Wire;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The responder assembled into a node the way a host application does it: resolver and policies come from the node. */
class NodeWiringTest {
  @Test
  void responderUsesTheNodesResolverAndPolicies() throws Exception {
    FakeResolver resolver = new FakeResolver();
    ServiceId api = ServiceId.of("shop", "prod", "api", "backend");
    resolver.put(FakeResolver.record(api, 1, "172.30.0.10", "fdff::10", "172.30.1.1", "fdff::1:1"));
    SemanticNameResponder dns = SemanticNameResponder.builder().bridgeAddresses("127.0.0.1/8").mdns(false).dnsPort(0).build();
    SemnetNode node = SemnetNode.builder("w1").policies(Policies.of("rr", "closest")).resolver(resolver).nameResponder(dns).build();
    node.start();
    try (DatagramSocket s = new DatagramSocket()) {
      s.setSoTimeout(3000);
      InetSocketAddress server = dns.boundAddresses().get(0);
      DatagramDnsResponse rr = ask(s, server, "shop.prod.api.backend.any.rr.local");
      assertEquals(DnsResponseCode.NOERROR, rr.code());
      DnsRawRecord a = rr.recordAt(DnsSection.ANSWER);
      assertEquals("172.30.0.10", Addresses.format(Addresses.byAddress(ByteBufUtil.getBytes(a.content()))));
      rr.release();
      // Known policy, but the service has no ServiceIP for it: the resolver says not found.
      DatagramDnsResponse closest = ask(s, server, "shop.prod.api.backend.any.closest.local");
      assertEquals(DnsResponseCode.NXDOMAIN, closest.code());
      closest.release();
      // Unknown to the node's registry: rejected without asking the resolver.
      DatagramDnsResponse unknown = ask(s, server, "shop.prod.api.backend.any.fastest.local");
      assertEquals(DnsResponseCode.NXDOMAIN, unknown.code());
      unknown.release();
      assertEquals(0, resolver.calls("shop.prod.api.backend.any.fastest.local"));
      assertEquals(1, resolver.calls("shop.prod.api.backend.any.closest.local"));
    } finally {
      node.close();
    }
    assertEquals(0, resolver.listenerCount());
    assertFalse(node.isRunning());
  }

  private static DatagramDnsResponse ask(DatagramSocket s, InetSocketAddress server, String name) throws Exception {
    byte[] q = Wire.query(11, name, 1);
    s.send(new DatagramPacket(q, q.length, server));
    DatagramPacket in = new DatagramPacket(new byte[512], 512);
    s.receive(in);
    return Wire.decode(Arrays.copyOf(in.getData(), in.getLength()));
  }
}
