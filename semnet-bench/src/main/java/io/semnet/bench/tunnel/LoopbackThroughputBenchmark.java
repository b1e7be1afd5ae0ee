package io.semnet.bench.tunnel;

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
import io.semnet.core.trust.RootAuthority;
import io.semnet.tunnel.NodeKeys;
import io.semnet.tunnel.TunnelStats;
import io.semnet.tunnel.UdpTunnel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Two sealed tunnels on loopback; each op sends a burst of 32 packets of 1400 bytes from a to b
 * (flush per burst with batching, per packet without) and waits until b has delivered all but
 * a bounded window of what was sent, so the score (ops/s × 32) is delivered packets/s, not
 * what the sender managed to queue. Lost packets are counted in the {@code lost} aux counter.
 * {@code segmentation} switches UDP GSO (a burst leaves as one send) and GRO (and arrives as one
 * read) on or off together.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class LoopbackThroughputBenchmark {
  static final int BURST = 32;
  static final int WINDOW = 512;

  @Param({"true", "false"})
  public boolean batching;

  @Param({"false", "true"})
  public boolean plaintext;

  /** UDP GSO on the sender and GRO on the receiver (the defaults), or neither. */
  @Param({"true", "false"})
  public boolean segmentation;

  private UdpTunnel a;
  private UdpTunnel b;
  private WorkerEndpoint toB;
  private final AtomicLong delivered = new AtomicLong();
  private long sent;
  private ByteBuffer packet;

  @AuxCounters(AuxCounters.Type.EVENTS)
  @State(Scope.Thread)
  public static class Counters {
    public long packets;
    public long lost;
  }

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    RootAuthority root = RootAuthority.generate();
    a = tunnel(root, "a");
    b = tunnel(root, "b");
    a.start(context("a", a, null));
    b.start(context("b", b, new TunnelReceiver() {
      @Override
      public void onData(WorkerEndpoint from, ByteBuffer p) {
        delivered.incrementAndGet();
      }

      @Override
      public void onRouteNotFound(WorkerEndpoint from, InetAddress ip) {}
    }));
    toB = b.localEndpoint();
    packet = ByteBuffer.allocateDirect(1400);
    a.send(toB, packet.duplicate());
    a.flush();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (delivered.get() == 0 && System.nanoTime() < end) {
      Thread.sleep(5);
    }
    sent = delivered.get();
  }

  private UdpTunnel tunnel(RootAuthority root, String id) {
    NodeKeys k = NodeKeys.generate();
    return UdpTunnel.builder().nodeId(id).bind(new InetSocketAddress("127.0.0.1", 0))
        .identity(k, root.certify(id, k.publicKey(), Instant.now().plusSeconds(3600))).rootTrust(root.trust())
        .batching(batching).plaintext(plaintext).udpGso(segmentation).udpGro(segmentation).build();
  }

  @Benchmark
  public void burst(Counters c) {
    for (int i = 0; i < BURST; i++) {
      packet.clear();
      a.send(toB, packet);
      if (!batching) {
        a.flush();
      }
    }
    a.flush();
    sent += BURST;
    long deadline = 0;
    while (sent - delivered.get() > WINDOW) {
      if (deadline == 0) {
        deadline = System.nanoTime() + 20_000_000L;
      } else if (System.nanoTime() > deadline) {
        long lost = sent - delivered.get() - WINDOW;
        c.lost += lost;
        sent -= lost;
        break;
      }
      Thread.onSpinWait();
    }
    c.packets += BURST;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    TunnelStats s = b.stats();
    System.out.println("\nreceiver: kernel receive-buffer drops " + s.receiveBufferDrops() + ", tunnel drops " + s.totalDrops()
        + "; sender drops " + a.stats().drops());
    a.close();
    b.close();
  }

  private static NodeContext context(String id, UdpTunnel t, TunnelReceiver r) {
    LocalNodeView view = new LocalNodeView(id, null);
    return new NodeContext() {
      @Override
      public String nodeId() {
        return id;
      }

      @Override
      public LocalNodeView view() {
        return view;
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
        return t;
      }

      @Override
      public TunnelReceiver tunnelReceiver() {
        return r;
      }

      @Override
      public RouteResolver resolver() {
        return null;
      }
    };
  }
}
