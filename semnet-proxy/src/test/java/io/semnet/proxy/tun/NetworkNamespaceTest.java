package io.semnet.proxy.tun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.testing.Privileged;
import io.semnet.testing.TestNetwork;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

@Privileged
class NetworkNamespaceTest {
  private static String currentNs() throws IOException {
    return Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();
  }

  @Test
  void runEntersTheNamespaceAndRestoresTheThread() throws Exception {
    try (TestNetwork net = new TestNetwork()) {
      String x = net.namespace("x");
      String before = currentNs();
      String inside = NetworkNamespace.run(x, NetworkNamespaceTest::currentNs);
      assertNotEquals(before, inside);
      assertEquals(before, currentNs(), "thread is back in its namespace");
      // a failing task still restores
      assertThrows(IllegalStateException.class, () -> NetworkNamespace.run(x, () -> {
        throw new IllegalStateException("boom");
      }));
      assertEquals(before, currentNs());
      assertThrows(IOException.class, () -> NetworkNamespace.run(net.tag() + "-missing", () -> 1));
      assertTrue(NetworkNamespace.exists(x));
      assertFalse(NetworkNamespace.exists(net.tag() + "-missing"));
    }
  }

  @Test
  void aTunOpenedInsideStaysThereAndMovesPackets() throws Exception {
    try (TestNetwork net = new TestNetwork()) {
      String x = net.namespace("x");
      String dev = net.name("tun");
      try (TunDevice tun = TunDevice.builder().name(dev).mtu(1300).namespace(x).build()) {
        assertEquals(dev, tun.name());
        String links = net.exec(x, "ip", "-o", "link", "show", dev);
        assertTrue(links.contains("mtu 1300"), links);
        assertTrue(links.contains("UP"), links);
        assertEquals(1, net.tryExec(null, 10, "ip", "link", "show", dev).exitCode == 0 ? 0 : 1, "not in the host namespace");
        net.exec(x, "ip", "addr", "add", "10.99.0.1/24", "dev", dev);

        // Read: a UDP datagram sent to 10.99.0.2 from inside x arrives on the TUN.
        BlockingQueue<byte[]> got = new ArrayBlockingQueue<>(16);
        tun.start(new io.semnet.core.node.PacketHandler() {
          @Override
          public void onPacket(ByteBuffer p) {
            byte[] a = new byte[p.remaining()];
            p.get(a);
            if ((a[0] >> 4) == 4 && a[9] == 17) {
              got.offer(a);
            }
          }
        }, "test");
        // Write: a crafted UDP packet to 10.99.0.1:9999 is received by a socket in x.
        try (DatagramSocket s = NetworkNamespace.run(x, () -> new DatagramSocket(new InetSocketAddress("10.99.0.1", 9999)))) {
          s.setSoTimeout(3000);
          NetworkNamespace.run(x, () -> {
            try (DatagramSocket c = new DatagramSocket()) {
              byte[] m = "hello".getBytes();
              c.send(new DatagramPacket(m, m.length, InetAddress.getByName("10.99.0.2"), 7));
            }
          });
          byte[] p = got.poll(3, TimeUnit.SECONDS);
          assertTrue(p != null, "packet read from the TUN");
          assertEquals("hello", new String(p, 28, 5));
          byte[] reply = io.semnet.proxy.Pkt.v4("10.99.0.2", "10.99.0.1", 17, io.semnet.proxy.Pkt.udp(7, 9999, 0));
          byte[] withData = new byte[reply.length + 3];
          System.arraycopy(reply, 0, withData, 0, reply.length);
          withData[reply.length] = 'y';
          withData[reply.length + 1] = 'e';
          withData[reply.length + 2] = 's';
          java.nio.ByteBuffer.wrap(withData).putShort(2, (short) withData.length).putShort(24, (short) 11);
          io.semnet.proxy.Pkt.fill(withData);
          ByteBuffer direct = ByteBuffer.allocateDirect(100);
          direct.position(10);
          direct.put(withData).flip().position(10);
          tun.write(direct);
          DatagramPacket in = new DatagramPacket(new byte[100], 100);
          s.receive(in);
          assertEquals("yes", new String(in.getData(), 0, in.getLength()));
          tun.write(ByteBuffer.wrap(withData)); // heap buffers are copied
          s.receive(in);
          assertEquals("yes", new String(in.getData(), 0, in.getLength()));
          assertEquals(2, tun.packetsWritten());
          assertTrue(tun.packetsRead() >= 1);
        }
      }
      assertNotEquals(0, net.tryExec(x, 10, "ip", "link", "show", dev).exitCode, "device gone after close");
    }
  }

  @Test
  void plumbingBuildsAndRemovesBridgeVethAndRoutes() throws Exception {
    try (TestNetwork net = new TestNetwork()) {
      String node = net.namespace("node");
      String inst = net.namespace("inst");
      String br = net.name("br");
      String dev = net.name("tun");
      try (TunDevice tun = TunDevice.builder().name(dev).queues(2).namespace(node).build()) {
        assertTrue(net.exec(node, "ip", "-d", "link", "show", dev).contains("multi_queue"), "two queues");
        try (NetworkPlumbing p = NetworkPlumbing.in(node)) {
          p.bridge(br, "10.20.0.1/24", "fd20::1/64")
              .vethToNamespace(net.name("vi"), br, inst, "eth0", java.util.List.of("10.20.0.2/24", "fd20::2/64"), "10.20.0.1", "fd20::1")
              .route("172.31.0.0/16", dev)
              .route("fd31::/48", dev);
          assertTrue(net.exec(inst, "ip", "route").contains("default via 10.20.0.1"));
          assertTrue(net.exec(inst, "ip", "-6", "route").contains("default via fd20::1"));
          net.exec(inst, "ping", "-c", "1", "-W", "2", "10.20.0.1");
          net.exec(inst, "ping", "-6", "-c", "1", "-W", "2", "fd20::1");
          assertTrue(net.exec(node, "ip", "route").contains("172.31.0.0/16 dev " + dev));
          p.removeRoute("fd31::/48", dev);
          assertFalse(net.exec(node, "ip", "-6", "route").contains("fd31::/48"));
        }
        assertFalse(net.exec(node, "ip", "route").contains("172.31.0.0/16"), "routes removed");
        assertNotEquals(0, net.tryExec(node, 10, "ip", "link", "show", br).exitCode, "bridge removed");
        assertTrue(net.exec(inst, "ip", "-o", "link").trim().lines().count() == 1, "veth removed with its host end");
      }
    }
  }
}
