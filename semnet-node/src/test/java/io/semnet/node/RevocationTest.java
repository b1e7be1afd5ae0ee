package io.semnet.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.control.InProcessControlPlane;
import io.semnet.control.OrchestrationException;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.node.NodeContext;
import io.semnet.core.node.TunnelReceiver;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.policy.RoutingPolicyRegistry;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.trust.NodeCertificate;
import io.semnet.core.trust.RevokedCertificate;
import io.semnet.resolver.WorkerResolver;
import io.semnet.tunnel.DropReason;
import io.semnet.tunnel.NodeKeys;
import io.semnet.tunnel.UdpTunnel;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * Revocation end to end (issue 14 item 4), without namespaces: a root, a cluster manager and three
 * worker resolvers (an in-process control plane), each worker with a real tunnel on loopback that
 * takes the root's revocation list from its resolver as {@link WorkerNode} wires it. Deregistering
 * a node at the root revokes its certificate; the signed list travels root → cluster → workers,
 * and the other workers' tunnels close every link to it (whoever opened it) and refuse it from then
 * on, counted as {@code REVOKED}; the root will not certify its key again.
 */
class RevocationTest {
  private static final GeoPoint HERE = GeoPoint.of(48.1, 11.6);

  /** A worker: its key, registration certificate, resolver and tunnel. */
  private record Worker(String id, NodeKeys keys, NodeCertificate cert, WorkerResolver resolver, UdpTunnel tunnel,
      LinkedBlockingQueue<byte[]> received) {
    WorkerEndpoint endpoint() {
      return tunnel.localEndpoint();
    }

    void send(Worker to, int tag) {
      tunnel.send(to.endpoint(), ByteBuffer.wrap(packet(tag)));
      tunnel.flush();
    }
  }

  @Test
  void aDeregisteredNodeLosesEveryTunnelLinkWithinSecondsAndIsRefused() throws Exception {
    try (InProcessControlPlane cp = InProcessControlPlane.builder().clusters("c1").build()) {
      Worker a = worker(cp, "rv-a");
      Worker b = worker(cp, "rv-b");
      Worker c = worker(cp, "rv-c");
      try {
        a.send(b, 1); // a opened a -> b: b holds a's certificate
        assertArrayEquals(packet(1), b.received.poll(5, TimeUnit.SECONDS));
        c.send(a, 2); // c opened c -> a: c knows only a's key
        assertArrayEquals(packet(2), a.received.poll(5, TimeUnit.SECONDS));
        b.send(c, 3);
        assertArrayEquals(packet(3), c.received.poll(5, TimeUnit.SECONDS));

        long t0 = System.nanoTime();
        cp.orchestration().deregisterNode("rv-a");
        await("b and c closed their links to a", () -> b.tunnel.stats().link("rv-a") == null && c.tunnel.stats().link("rv-a") == null);
        System.out.printf("deregistration to both links closed: %.1f ms%n", (System.nanoTime() - t0) / 1e6);
        List<RevokedCertificate> list = b.resolver.revokedCertificates();
        assertEquals(1, list.size());
        assertEquals(a.cert.serial(), list.get(0).serial());
        assertEquals(list, c.resolver.revokedCertificates());
        assertTrue(b.tunnel.stats().drops(DropReason.REVOKED) >= 1 && c.tunnel.stats().drops(DropReason.REVOKED) >= 1);

        long bBefore = b.tunnel.stats().drops(DropReason.REVOKED);
        long cBefore = c.tunnel.stats().drops(DropReason.REVOKED);
        for (int i = 0; i < 5; i++) {
          a.send(b, 10 + i); // a's link to b looks alive to a until probes fail; then new initiations
          c.send(a, 20 + i);
          Thread.sleep(100);
        }
        await("a's initiations refused at b", () -> b.tunnel.stats().drops(DropReason.REVOKED) > bBefore);
        assertTrue(c.tunnel.stats().drops(DropReason.REVOKED) >= cBefore + 5, c.tunnel.stats().drops().toString());
        assertNull(b.received.poll(300, TimeUnit.MILLISECONDS), "nothing from the revoked node is delivered");
        assertNull(a.received.poll(300, TimeUnit.MILLISECONDS), "nothing reaches the revoked node");
        c.send(b, 4);
        assertArrayEquals(packet(4), b.received.poll(5, TimeUnit.SECONDS), "the others keep talking");

        WorkerEndpoint sameKey = WorkerEndpoint.of("rv-a", new InetSocketAddress("127.0.0.1", 51820), a.keys.publicKey());
        OrchestrationException e = assertThrows(OrchestrationException.class, () -> cp.orchestration().registerNode("c1", sameKey, HERE));
        assertTrue(e.getMessage().contains("revoked"), e.getMessage());
      } finally {
        a.tunnel.close();
        b.tunnel.close();
        c.tunnel.close();
      }
    }
  }

  private static Worker worker(InProcessControlPlane cp, String id) throws Exception {
    NodeKeys keys = NodeKeys.generate();
    WorkerResolver resolver = cp.addWorker("c1", WorkerEndpoint.of(id, new InetSocketAddress("127.0.0.1", 51820), keys.publicKey()), HERE);
    NodeCertificate cert = cp.registration(id).certificate();
    UdpTunnel tunnel = UdpTunnel.builder().nodeId(id).bind(new InetSocketAddress("127.0.0.1", 0)).identity(keys, cert)
        .rootTrust(cp.authority().trust()).keepaliveInterval(java.time.Duration.ofMillis(200))
        .handshakeRetry(java.time.Duration.ofMillis(200)).probesBeforeDown(1).build();
    resolver.onRevocations(tunnel::revokeCertificates); // as WorkerNode does
    LinkedBlockingQueue<byte[]> received = new LinkedBlockingQueue<>();
    tunnel.start(context(id, received));
    return new Worker(id, keys, cert, resolver, tunnel, received);
  }

  /** A node context with a view and a receiver that queues inner packets; nothing else. */
  private static NodeContext context(String id, LinkedBlockingQueue<byte[]> received) {
    LocalNodeView view = new LocalNodeView(id, null);
    TunnelReceiver receiver = new TunnelReceiver() {
      @Override
      public void onData(WorkerEndpoint from, ByteBuffer packet) {
        byte[] b = new byte[packet.remaining()];
        packet.get(b);
        received.add(b);
      }

      @Override
      public void onRouteNotFound(WorkerEndpoint from, InetAddress namespaceIp) {}
    };
    return (NodeContext) Proxy.newProxyInstance(NodeContext.class.getClassLoader(), new Class<?>[] {NodeContext.class},
        (p, m, args) -> switch (m.getName()) {
          case "nodeId" -> id;
          case "view" -> view;
          case "tunnelReceiver" -> receiver;
          case "policies" -> new RoutingPolicyRegistry();
          case "toString" -> "context " + id;
          case "hashCode" -> System.identityHashCode(p);
          case "equals" -> p == args[0];
          default -> null;
        });
  }

  /** A minimal IPv4/UDP-shaped packet whose bytes carry {@code tag}. */
  private static byte[] packet(int tag) {
    byte[] p = new byte[40];
    p[0] = 0x45;
    p[3] = 40;
    p[9] = 17;
    p[39] = (byte) tag;
    return p;
  }

  private static void await(String what, BooleanSupplier cond) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      Thread.sleep(10);
    }
  }
}
