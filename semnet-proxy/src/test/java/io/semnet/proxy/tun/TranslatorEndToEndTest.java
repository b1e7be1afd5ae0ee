package io.semnet.proxy.tun;

import static io.semnet.proxy.Harness.ip;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.semnet.core.address.ServiceIp;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.node.LocalInstances;
import io.semnet.core.node.SemnetNode;
import io.semnet.core.policy.CandidateSet;
import io.semnet.core.policy.InstanceSelector;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.policy.NodeView;
import io.semnet.core.policy.RoutingPolicy;
import io.semnet.core.policy.RoutingPolicyProvider;
import io.semnet.core.policy.RoutingPolicyRegistry;
import io.semnet.core.record.InstanceMetadata;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.Route;
import io.semnet.core.service.ServiceId;
import io.semnet.proxy.Counter;
import io.semnet.proxy.Harness;
import io.semnet.proxy.SemnetTranslator;
import io.semnet.testing.Privileged;
import io.semnet.testing.TestNetwork;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * One node, as root: a node namespace with a bridge, the TUN and the translator; instance
 * namespaces A (client) and B (server) on the bridge. Real curl, ping and Java sockets.
 */
@Privileged
class TranslatorEndToEndTest {
  static final ServiceId CLIENT = ServiceId.of("app", "ns", "client", "ns");
  static final ServiceId SERVER = ServiceId.of("app", "ns", "server", "ns");

  @Test
  void tcpUdpAndPingReachAnInstanceThroughItsServiceIpAndInstanceIp() throws Exception {
    try (TestNetwork net = new TestNetwork()) {
      String node = net.namespace("node");
      String a = net.namespace("a");
      String b = net.namespace("b");
      String br = net.name("br");
      String tunName = net.name("tun");
      NetworkPlumbing plumbing = NetworkPlumbing.in(node);
      net.onClose(plumbing::close);
      plumbing.enableForwarding()
          .bridge(br, "10.10.0.1/24", "fd10::1/64")
          .vethToNamespace(net.name("va"), br, a, "eth0", List.of("10.10.0.2/24", "fd10::2/64"), "10.10.0.1", "fd10::1")
          .vethToNamespace(net.name("vb"), br, b, "eth0", List.of("10.10.0.3/24", "fd10::3/64"), "10.10.0.1", "fd10::1");
      TunDevice tun = NetworkNamespace.run(node, () -> TunDevice.builder().name(tunName).mtu(1400).build());
      plumbing.route("172.30.0.0/16", tunName).route("fd53::/48", tunName);

      WorkerEndpoint self = WorkerEndpoint.of("n1", new InetSocketAddress(ip("192.0.2.1"), 51820), new byte[0]);
      InstanceRecord clientA = InstanceRecord.of(CLIENT, 0, ip("172.30.1.1"), ip("fd53::1:1"),
          Locator.of(ip("10.10.0.2"), ip("fd10::2"), self, 1), InstanceMetadata.NONE);
      InstanceRecord serverB = InstanceRecord.of(SERVER, 0, ip("172.30.2.1"), ip("fd53::2:1"),
          Locator.of(ip("10.10.0.3"), ip("fd10::3"), self, 1), InstanceMetadata.NONE);
      ServiceRecord record = ServiceRecord.of(SERVER, 1,
          List.of(ServiceIp.of(SERVER, "rr", ip("172.30.0.10")), ServiceIp.of(SERVER, "rr", ip("fd53::10"))), List.of(serverB));
      Harness.FakeResolver resolver = new Harness.FakeResolver();
      for (ServiceIp s : record.serviceIps()) {
        resolver.routes.put(s.address(), Route.of(s, record));
      }
      resolver.routes.put(ip("172.30.2.1"), Route.of(serverB.instanceIpv4(), record));
      resolver.routes.put(ip("fd53::2:1"), Route.of(serverB.instanceIpv6(), record));
      LocalInstances locals = new LocalInstances();
      locals.attach(clientA);
      locals.attach(serverB);
      RoutingPolicyRegistry policies = new RoutingPolicyRegistry();
      AtomicInteger turn = new AtomicInteger();
      policies.register(new RoutingPolicyProvider() {
        @Override
        public String policyName() {
          return "rr";
        }

        @Override
        public RoutingPolicy newPolicy() {
          return new RoutingPolicy() {
            @Override
            public String name() {
              return "rr";
            }

            @Override
            public InstanceSelector newSelector() {
              return (CandidateSet c, long k, NodeView v) -> c.size() == 0 ? InstanceSelector.NONE
                  : Math.floorMod(turn.getAndIncrement(), c.size());
            }
          };
        }
      });
      SemnetTranslator translator = SemnetTranslator.builder().build();
      LocalNodeView view = new LocalNodeView("n1", null);
      try (SemnetNode n = SemnetNode.builder("n1").view(view).localInstances(locals).policies(policies)
          .resolver(resolver).translator(translator).packetIo(tun).build()) {
        n.start();

        HttpServer http = NetworkNamespace.run(b, () -> {
          HttpServer s = HttpServer.create(new InetSocketAddress("::", 8080), 16);
          s.createContext("/", ex -> {
            byte[] body = ("hello from B, you are " + ex.getRemoteAddress().getAddress().getHostAddress() + "\n")
                .getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
          });
          s.start();
          return s;
        });
        DatagramSocket echo = NetworkNamespace.run(b, () -> new DatagramSocket(new InetSocketAddress("::", 9000)));
        Thread echoThread = new Thread(() -> {
          byte[] buf = new byte[2048];
          try {
            while (true) {
              DatagramPacket p = new DatagramPacket(buf, buf.length);
              echo.receive(p);
              echo.send(new DatagramPacket(p.getData(), p.getLength(), p.getSocketAddress()));
            }
          } catch (Exception e) {
            // closed
          }
        }, "udp-echo");
        echoThread.setDaemon(true);
        echoThread.start();
        try {
          // TCP with curl through the ServiceIP and the InstanceIP, both families.
          String viaService = net.exec(a, "curl", "-sS", "--max-time", "5", "http://172.30.0.10:8080/");
          assertEquals("hello from B, you are 172.30.1.1\n", viaService, "B sees A's InstanceIP");
          String viaInstance = net.exec(a, "curl", "-sS", "--max-time", "5", "http://172.30.2.1:8080/");
          assertTrue(viaInstance.startsWith("hello from B"), viaInstance);
          String v6 = net.exec(a, "curl", "-sS", "-g", "--max-time", "5", "http://[fd53::10]:8080/");
          assertEquals("hello from B, you are fd53:0:0:0:0:0:1:1\n", v6);

          // UDP from a Java socket in A: the reply comes from the ServiceIP it sent to.
          try (DatagramSocket c = NetworkNamespace.run(a, () -> new DatagramSocket())) {
            c.setSoTimeout(3000);
            for (String target : List.of("172.30.0.10", "172.30.2.1", "fd53::10")) {
              byte[] m = ("ping " + target).getBytes(StandardCharsets.UTF_8);
              c.send(new DatagramPacket(m, m.length, new InetSocketAddress(ip(target), 9000)));
              DatagramPacket r = new DatagramPacket(new byte[2048], 2048);
              try {
                c.receive(r);
              } catch (java.net.SocketTimeoutException e) {
                throw new AssertionError("no UDP reply via " + target + "; counters " + translator.counters(), e);
              }
              assertEquals("ping " + target, new String(r.getData(), 0, r.getLength(), StandardCharsets.UTF_8));
              assertEquals(ip(target), r.getAddress(), "reply source is the address contacted");
            }
          }

          // ping through the ServiceIP and the InstanceIP
          net.exec(a, "ping", "-c", "2", "-i", "0.2", "-W", "2", "172.30.0.10");
          net.exec(a, "ping", "-c", "2", "-i", "0.2", "-W", "2", "172.30.2.1");
          net.exec(a, "ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", "fd53::10");

          // Bulk uploads: the TUN hands over TCP super-packets (offloads), cut into segments the
          // translator rewrites; the bytes arrive intact in both families.
          try (ServerSocket sink = NetworkNamespace.run(b, () -> new ServerSocket(9100, 4, ip("::")))) {
            for (String target : List.of("172.30.0.10", "fd53::10")) {
              uploadAndCompareDigest(a, sink, target);
            }
          }
          assertTrue(tun.offloads(), "TUN offloads are available on Linux");
          assertTrue(tun.superPacketsRead() > 0, "the kernel handed over TCP super-packets");
          assertTrue(tun.superPacketsWritten() > 0, "segments were merged back on delivery");
          assertEquals(0, tun.offloadErrors());

          // a ServiceIP without route: the client fails fast with an ICMP unreachable
          long t0 = System.nanoTime();
          TestNetwork.Result r = net.tryExec(a, 20, "curl", "-sS", "--max-time", "10", "http://172.30.0.99:8080/");
          long ms = (System.nanoTime() - t0) / 1_000_000;
          assertEquals(7, r.exitCode, r.output);
          assertTrue(r.output.contains("No route to host") || r.output.contains("Couldn't connect"), r.output);
          assertTrue(ms < 5000, "failed fast, took " + ms + " ms");
          t0 = System.nanoTime();
          TestNetwork.Result r6 = net.tryExec(a, 20, "curl", "-sS", "-g", "--max-time", "10", "http://[fd53::99]:8080/");
          assertEquals(7, r6.exitCode, r6.output);
          assertTrue((System.nanoTime() - t0) / 1_000_000 < 5000, "IPv6 failed fast too");
          TestNetwork.Result p = net.tryExec(a, 20, "ping", "-c", "1", "-W", "3", "172.30.0.99");
          assertTrue(p.output.contains("Unreachable"), p.output);

          // The counter moves after the ICMP error is written, so the client may have it first.
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
          while (translator.counter(Counter.UNREACHABLE_SENT) < 3 && System.nanoTime() < deadline) {
            Thread.sleep(10);
          }
          assertTrue(translator.counter(Counter.UNREACHABLE_SENT) >= 3, translator.counters().toString());
          assertTrue(translator.counter(Counter.FLOWS_CREATED) >= 8);
          assertTrue(view.setupLatencyNanos(serverB.key()) > 0, "handshake latency observed");
          assertEquals(0, tun.handlerErrors());
        } finally {
          http.stop(0);
          echo.close();
        }
      }
    }
  }

  /** Sends 8 MB from namespace {@code from} to {@code target}:9100 and checks the SHA-256 the sink computed. */
  private static void uploadAndCompareDigest(String from, ServerSocket sink, String target) throws Exception {
    byte[] data = new byte[8 << 20];
    new Random(target.hashCode()).nextBytes(data);
    CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> {
      try (Socket s = sink.accept()) {
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[65536];
        InputStream in = s.getInputStream();
        for (int n; (n = in.read(buf)) > 0; ) {
          d.update(buf, 0, n);
        }
        return d.digest();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    // Binding creates the socket inside the namespace; an unbound Socket would only get its file
    // descriptor at connect, in this thread's namespace.
    try (Socket c = NetworkNamespace.run(from, () -> {
      Socket s = new Socket();
      s.bind(null);
      return s;
    })) {
      c.connect(new InetSocketAddress(ip(target), 9100), 5000);
      c.getOutputStream().write(data);
      c.shutdownOutput();
    } catch (java.io.IOException e) {
      try {
        received.get(2, TimeUnit.SECONDS);
      } catch (Exception sinkFailure) {
        e.addSuppressed(sinkFailure);
      }
      throw e;
    }
    assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(data), received.get(20, TimeUnit.SECONDS),
        "upload via " + target + " arrived intact");
  }
}
