package io.semnet.tunnel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.semnet.testing.Privileged;
import io.semnet.testing.TestNetwork;
import io.semnet.tunnel.Harness.Delivery;
import io.semnet.tunnel.Harness.Node;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/**
 * Two nodes behind one masquerading NAT (a namespace with iptables MASQUERADE), both bound to the
 * same private port, talk to a public node that never heard of them: it authenticates them from
 * their first contacts, sees them at one public IP with two different ports, and its replies
 * reach each through the NAT mappings their own datagrams opened.
 */
@Privileged
class NatNetnsTest {

  @Test
  void twoNodesBehindOneMasqueradingNat() throws Exception {
    ExecutorService inPub = Executors.newSingleThreadExecutor();
    ExecutorService inB1 = Executors.newSingleThreadExecutor();
    ExecutorService inB2 = Executors.newSingleThreadExecutor();
    try (TestNetwork net = new TestNetwork(); Harness h = new Harness()) {
      String pub = net.namespace("pub");
      String nat = net.namespace("nat");
      String b1 = net.namespace("b1");
      String b2 = net.namespace("b2");
      net.veth(nat, net.name("np"), "10.98.0.1/24", pub, net.name("pn"), "10.98.0.2/24");
      net.veth(nat, net.name("n1"), "192.168.51.1/24", b1, net.name("1n"), "192.168.51.2/24");
      net.veth(nat, net.name("n2"), "192.168.52.1/24", b2, net.name("2n"), "192.168.52.2/24");
      net.exec(b1, "ip", "route", "add", "default", "via", "192.168.51.1");
      net.exec(b2, "ip", "route", "add", "default", "via", "192.168.52.1");
      net.exec(nat, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
      net.exec(nat, "iptables", "-t", "nat", "-A", "POSTROUTING", "-o", net.name("np"), "-j", "MASQUERADE");
      for (Object[] x : new Object[][] {{inPub, pub}, {inB1, b1}, {inB2, b2}}) {
        ((ExecutorService) x[0]).submit(() -> {
          TestTun.enterNamespace((String) x[1]);
          return null;
        }).get();
      }
      Node a = inPub.submit(() -> h.node("a", NodeKeys.generate(), new InetSocketAddress("10.98.0.2", 51820), b -> {})).get();
      // the same private port on both: the NAT must give them different public ports
      Node n1 = inB1.submit(() -> h.node("b1", NodeKeys.generate(), new InetSocketAddress("192.168.51.2", 51820), b -> {})).get();
      Node n2 = inB2.submit(() -> h.node("b2", NodeKeys.generate(), new InetSocketAddress("192.168.52.2", 51820), b -> {})).get();

      n1.send(a.endpoint(), UdpTunnelTest.packet(400, 1));
      n2.send(a.endpoint(), UdpTunnelTest.packet(400, 2));
      Map<String, Delivery> got = new HashMap<>();
      for (int i = 0; i < 2; i++) {
        Delivery d = a.received.next();
        assertNotNull(d, "first contact through the NAT");
        got.put(d.from().nodeId(), d);
      }
      assertArrayEquals(UdpTunnelTest.packet(400, 1), got.get("b1").bytes());
      assertArrayEquals(UdpTunnelTest.packet(400, 2), got.get("b2").bytes());
      InetSocketAddress seen1 = got.get("b1").from().address();
      InetSocketAddress seen2 = got.get("b2").from().address();
      assertEquals(InetAddress.getByName("10.98.0.1"), seen1.getAddress(), "b1 seen at the NAT's public IP");
      assertEquals(InetAddress.getByName("10.98.0.1"), seen2.getAddress(), "b2 seen at the NAT's public IP");
      assertNotEquals(seen1.getPort(), seen2.getPort(), "each behind-NAT node has its own public port");

      // replies go to the observed endpoints and come out of the NAT at the right node
      a.send(got.get("b1").from(), UdpTunnelTest.packet(100, 11));
      a.send(got.get("b2").from(), UdpTunnelTest.packet(100, 22));
      assertArrayEquals(UdpTunnelTest.packet(100, 11), n1.received.next().bytes());
      assertArrayEquals(UdpTunnelTest.packet(100, 22), n2.received.next().bytes());
      assertEquals(0, a.tunnel.stats().totalDrops());
    } finally {
      inPub.shutdownNow();
      inB1.shutdownNow();
      inB2.shutdownNow();
    }
  }
}
