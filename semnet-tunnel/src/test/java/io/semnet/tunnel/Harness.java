package io.semnet.tunnel;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.node.LocalInstances;
import io.semnet.core.node.NodeContext;
import io.semnet.core.node.PacketHandler;
import io.semnet.core.node.PacketIo;
import io.semnet.core.node.RouteResolver;
import io.semnet.core.node.Tunnel;
import io.semnet.core.node.TunnelReceiver;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.policy.RoutingPolicyRegistry;
import io.semnet.core.trust.NodeCertificate;
import io.semnet.core.trust.RootAuthority;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/** Test nodes: a started tunnel, its node view and what its receiver got. */
final class Harness implements AutoCloseable {
  static final RootAuthority ROOT = RootAuthority.generate();

  private final List<AutoCloseable> open = new ArrayList<>();

  /** What a receiver got: inner packets (copied), route-not-found notices, batch ends. */
  static final class Received implements TunnelReceiver {
    final LinkedBlockingQueue<Delivery> data = new LinkedBlockingQueue<>();
    final LinkedBlockingQueue<Delivery> notFound = new LinkedBlockingQueue<>();
    volatile int batches;

    @Override
    public void onData(WorkerEndpoint from, ByteBuffer packet) {
      byte[] b = new byte[packet.remaining()];
      packet.get(b);
      data.add(new Delivery(from, b, null));
    }

    @Override
    public void onRouteNotFound(WorkerEndpoint from, InetAddress namespaceIp) {
      notFound.add(new Delivery(from, null, namespaceIp));
    }

    @Override
    public void onTunnelBatchEnd() {
      batches++;
    }

    Delivery next() throws InterruptedException {
      return data.poll(5, TimeUnit.SECONDS);
    }
  }

  record Delivery(WorkerEndpoint from, byte[] bytes, InetAddress ip) {}

  static final class Node implements AutoCloseable {
    final String id;
    final NodeKeys keys;
    final UdpTunnel tunnel;
    final LocalNodeView view;
    final Received received = new Received();
    TunnelReceiver receiver = received;
    /** What the tunnel reported to the node as fatal ({@code NodeContext.fail}), or null. */
    volatile Throwable failure;

    Node(String id, NodeKeys keys, UdpTunnel tunnel) {
      this.id = id;
      this.keys = keys;
      this.tunnel = tunnel;
      this.view = new LocalNodeView(id, null);
    }

    WorkerEndpoint endpoint() {
      return tunnel.localEndpoint();
    }

    void send(WorkerEndpoint to, byte[] packet) {
      tunnel.send(to, ByteBuffer.wrap(packet));
      tunnel.flush();
    }

    @Override
    public void close() {
      tunnel.close();
    }
  }

  static UdpTunnel.Builder builder(String id, NodeKeys keys, InetSocketAddress bind) {
    NodeCertificate cert = ROOT.certify(id, keys.publicKey(), Instant.now().plus(Duration.ofDays(1)));
    return UdpTunnel.builder().nodeId(id).bind(bind).identity(keys, cert).rootTrust(ROOT.trust())
        .keepaliveInterval(Duration.ofMillis(200)).handshakeRetry(Duration.ofMillis(200));
  }

  Node node(String id) throws Exception {
    return node(id, NodeKeys.generate(), new InetSocketAddress("127.0.0.1", 0), b -> {});
  }

  Node node(String id, Consumer<UdpTunnel.Builder> custom) throws Exception {
    return node(id, NodeKeys.generate(), new InetSocketAddress("127.0.0.1", 0), custom);
  }

  Node node(String id, NodeKeys keys, InetSocketAddress bind, Consumer<UdpTunnel.Builder> custom) throws Exception {
    return node(id, keys, bind, custom, null);
  }

  Node node(String id, NodeKeys keys, InetSocketAddress bind, Consumer<UdpTunnel.Builder> custom, TunnelReceiver receiver) throws Exception {
    UdpTunnel.Builder b = builder(id, keys, bind);
    custom.accept(b);
    Node n = new Node(id, keys, b.build());
    if (receiver != null) {
      n.receiver = receiver;
    }
    n.tunnel.start(context(n));
    open.add(n);
    return n;
  }

  static NodeContext context(Node n) {
    return new NodeContext() {
      @Override
      public String nodeId() {
        return n.id;
      }

      @Override
      public LocalNodeView view() {
        return n.view;
      }

      @Override
      public RoutingPolicyRegistry policies() {
        return new RoutingPolicyRegistry();
      }

      @Override
      public LocalInstances localInstances() {
        return null;
      }

      @Override
      public PacketIo packetIo() {
        return null;
      }

      @Override
      public PacketHandler packetHandler() {
        return null;
      }

      @Override
      public Tunnel tunnel() {
        return n.tunnel;
      }

      @Override
      public TunnelReceiver tunnelReceiver() {
        return n.receiver;
      }

      @Override
      public RouteResolver resolver() {
        return null;
      }

      @Override
      public void fail(io.semnet.core.node.NodeComponent component, Throwable cause) {
        n.failure = cause;
      }
    };
  }

  void closeLater(AutoCloseable c) {
    open.add(c);
  }

  static void await(String what, Duration timeout, BooleanSupplier cond) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(10);
    }
  }

  @Override
  public void close() {
    for (int i = open.size() - 1; i >= 0; i--) {
      try {
        open.get(i).close();
      } catch (Exception ignored) {
        // best effort
      }
    }
  }
}
