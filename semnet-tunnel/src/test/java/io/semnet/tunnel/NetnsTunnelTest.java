package io.semnet.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.node.TunnelReceiver;
import io.semnet.testing.Privileged;
import io.semnet.testing.TestNetwork;
import io.semnet.tunnel.Harness.Node;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Two worker namespaces joined by a veth underlay with netem loss and reordering; in each a TUN
 * device whose packets a minimal pass-through hands to the tunnel and back. A TCP transfer between
 * the TUN addresses, carried only by the tunnel, completes with a matching SHA-256.
 */
@Privileged
class NetnsTunnelTest {
  private static final String SERVER = String.join("\n",
      "import socket, hashlib, sys",
      "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
      "s.bind(('10.200.0.2', 5000)); s.listen(1); s.settimeout(90)",
      "c, _ = s.accept(); c.settimeout(90); h = hashlib.sha256(); n = 0",
      "while True:",
      "    b = c.recv(65536)",
      "    if not b: break",
      "    h.update(b); n += len(b)",
      "print(n, h.hexdigest())");
  private static final String CLIENT = String.join("\n",
      "import socket, sys, time",
      "data = open(sys.argv[1], 'rb').read()",
      "for i in range(100):",
      "    try:",
      "        c = socket.create_connection(('10.200.0.2', 5000), timeout=5); break",
      "    except OSError: time.sleep(0.1)",
      "c.sendall(data); c.shutdown(socket.SHUT_WR); c.recv(1); c.close()");

  @Test
  void tcpTransferThroughTunOverLossyReorderingUnderlay() throws Exception {
    Path file = Files.createTempFile("semnet-tunnel", ".bin");
    ExecutorService ns1 = Executors.newSingleThreadExecutor();
    ExecutorService ns2 = Executors.newSingleThreadExecutor();
    AtomicBoolean stop = new AtomicBoolean();
    try (TestNetwork net = new TestNetwork(); Harness h = new Harness()) {
      String w1 = net.namespace("w1");
      String w2 = net.namespace("w2");
      String v1 = net.name("u1");
      String v2 = net.name("u2");
      net.veth(w1, v1, "10.99.0.1/24", w2, v2, "10.99.0.2/24");
      // tc netem where the kernel has it; otherwise (this machine's kernel lacks sch_netem) the same
      // impairment in a user-space UDP forwarder on the underlay, in front of the receiving node
      boolean netem = true;
      for (String[] x : new String[][] {{w1, v1}, {w2, v2}}) {
        TestNetwork.Result r = net.tryExec(x[0], 20, "tc", "qdisc", "add", "dev", x[1], "root", "netem", "delay", "2ms", "loss", "random", "2%", "reorder", "20%", "50%");
        netem &= r.exitCode == 0;
      }
      System.out.println("underlay impairment: " + (netem ? "tc netem" : "user-space forwarder (no sch_netem in this kernel)"));
      String t1 = net.name("t1");
      String t2 = net.name("t2");
      net.exec(w1, "ip", "tuntap", "add", "dev", t1, "mode", "tun");
      // no IPv6 chatter on the TUNs: the transfer's first packet is what opens the link
      net.exec(w1, "sysctl", "-q", "-w", "net.ipv6.conf." + t1 + ".disable_ipv6=1");
      net.exec(w1, "ip", "addr", "add", "10.200.0.1/24", "dev", t1);
      net.exec(w1, "ip", "link", "set", t1, "mtu", "1400", "up");
      net.exec(w2, "ip", "tuntap", "add", "dev", t2, "mode", "tun");
      net.exec(w2, "sysctl", "-q", "-w", "net.ipv6.conf." + t2 + ".disable_ipv6=1");
      net.exec(w2, "ip", "addr", "add", "10.200.0.2/24", "dev", t2);
      net.exec(w2, "ip", "link", "set", t2, "mtu", "1400", "up");

      ns1.submit(() -> {
        TestTun.enterNamespace(w1);
        return null;
      }).get();
      ns2.submit(() -> {
        TestTun.enterNamespace(w2);
        return null;
      }).get();
      TestTun tun1 = ns1.submit(() -> TestTun.attach(t1)).get();
      TestTun tun2 = ns2.submit(() -> TestTun.attach(t2)).get();
      h.closeLater(tun1);
      h.closeLater(tun2);
      NodeKeys k1 = NodeKeys.generate();
      NodeKeys k2 = NodeKeys.generate();
      // the tunnels start on the namespace threads, so their sockets live in the namespaces
      Node n1 = ns1.submit(() -> h.node("w1", k1, new InetSocketAddress("10.99.0.1", 51820), b -> {}, toTun(tun1))).get();
      Node n2 = ns2.submit(() -> h.node("w2", k2, new InetSocketAddress("10.99.0.2", 51820), b -> {}, toTun(tun2))).get();
      WorkerEndpoint to2 = n2.endpoint();
      WorkerEndpoint to1 = n1.endpoint();
      Relay impairer = null;
      Relay impairer1 = null;
      if (!netem) {
        // one forwarder in front of each node, so every datagram in either direction crosses one
        impairer = ns2.submit(() -> new Relay(new InetSocketAddress("10.99.0.2", 51821), new InetSocketAddress("10.99.0.2", 51820))).get();
        impairer1 = ns1.submit(() -> new Relay(new InetSocketAddress("10.99.0.1", 51821), new InetSocketAddress("10.99.0.1", 51820))).get();
        impairer.impair(0.02, 0.2);
        impairer1.impair(0.02, 0.2);
        h.closeLater(impairer);
        h.closeLater(impairer1);
        to2 = WorkerEndpoint.of("w2", impairer.address(), k2.publicKey());
        to1 = WorkerEndpoint.of("w1", impairer1.address(), k1.publicKey());
      }
      Thread p1 = pump(tun1, n1, to2, stop);
      Thread p2 = pump(tun2, n2, to1, stop);

      byte[] data = new byte[3 << 20];
      new Random(42).nextBytes(data);
      Files.write(file, data);
      String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
      Future<TestNetwork.Result> server = Executors.newSingleThreadExecutor().submit(
          () -> net.tryExec(w2, 120, "/usr/bin/python3", "-c", SERVER));
      TestNetwork.Result client = net.tryExec(w1, 120, "/usr/bin/python3", "-c", CLIENT, file.toString());
      assertEquals(0, client.exitCode, client.output);
      TestNetwork.Result got = server.get(120, TimeUnit.SECONDS);
      assertEquals(0, got.exitCode, got.output);
      assertEquals(data.length + " " + expected, got.output.trim(), "bytes and SHA-256 through the tunnel");

      TunnelStats s1 = n1.tunnel.stats();
      TunnelStats s2 = n2.tunnel.stats();
      assertTrue(s1.link("w2").txPackets() > 2000, "the transfer went through the tunnel: " + s1.link("w2"));
      // a reordered first-contact retransmission may count as REPLAYED; nothing may fail authentication
      assertEquals(0, s1.drops(DropReason.AUTH_FAILED) + s2.drops(DropReason.AUTH_FAILED), "drops: " + s1.drops() + " " + s2.drops());
      System.out.println("drops w1 " + s1.drops() + " w2 " + s2.drops());
      assertTrue(s2.receiveBufferDrops() >= 0);
      if (impairer != null) {
        long dropped = impairer.dropped.get() + impairer1.dropped.get();
        long reordered = impairer.reordered.get() + impairer1.reordered.get();
        System.out.println("impairers forwarded " + (impairer.toTarget.size() + impairer1.toTarget.size()) + ", dropped " + dropped + ", reordered " + reordered);
        assertTrue(dropped > 20 && reordered > 200, "the underlay did lose and reorder");
        java.util.Set<InetSocketAddress> impaired = java.util.Set.of(impairer.address(), impairer1.address());
        assertTrue(impaired.contains(s1.link("w2").peer().address()) && impaired.contains(s2.link("w1").peer().address()),
            "both links run over the impaired path: " + s1.links() + " " + s2.links());
      }
      stop.set(true);
      p1.join(2000);
      p2.join(2000);
    } finally {
      stop.set(true);
      ns1.shutdownNow();
      ns2.shutdownNow();
      Files.deleteIfExists(file);
    }
  }

  private static TunnelReceiver toTun(TestTun tun) {
    return new TunnelReceiver() {
      private final byte[] buf = new byte[65536];

      @Override
      public void onData(WorkerEndpoint from, ByteBuffer packet) {
        int n = packet.remaining();
        packet.get(buf, 0, n);
        tun.write(buf, n);
      }

      @Override
      public void onRouteNotFound(WorkerEndpoint from, InetAddress namespaceIp) {}
    };
  }

  private static Thread pump(TestTun tun, Node node, WorkerEndpoint peer, AtomicBoolean stop) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[65536];
      while (!stop.get()) {
        int n = tun.read(buf, 100);
        if (n > 0) {
          node.tunnel.send(peer, ByteBuffer.wrap(buf, 0, n));
          node.tunnel.flush();
        }
      }
    }, "tun-pump-" + node.id);
    t.setDaemon(true);
    t.start();
    return t;
  }
}
