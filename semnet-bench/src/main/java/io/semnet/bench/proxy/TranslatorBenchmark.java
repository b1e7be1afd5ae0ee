package io.semnet.bench.proxy;

import io.semnet.core.address.Addresses;
import io.semnet.core.address.ServiceIp;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.isolation.IsolationRules;
import io.semnet.core.node.LocalInstances;
import io.semnet.core.node.NodeContext;
import io.semnet.core.node.PacketIo;
import io.semnet.core.node.RouteResolver;
import io.semnet.core.node.SemnetNode;
import io.semnet.core.node.Tunnel;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.policy.RoutingPolicyRegistry;
import io.semnet.core.record.InstanceMetadata;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.Resolution;
import io.semnet.core.route.Route;
import io.semnet.core.route.RouteListener;
import io.semnet.core.service.SemanticName;
import io.semnet.core.service.ServiceId;
import io.semnet.proxy.Counter;
import io.semnet.proxy.SemnetTranslator;
import io.semnet.proxy.internal.packet.Checksums;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Translation cost per packet in {@link SemnetTranslator}, measured through its real entry points
 * ({@code onPacket} for packets from the TUN, {@code onData} for packets from a peer) with a
 * tunnel and TUN that only count. Each operation first restores the untranslated packet into the
 * same direct buffer (the translation rewrites it in place); {@link #copyOnly} measures that copy
 * alone so it can be subtracted.
 *
 * <pre>
 * java -jar semnet-bench/target/benchmarks.jar TranslatorBenchmark -prof gc -f 1 -wi 3 -i 5
 * </pre>
 *
 * <p>On a loaded machine, {@link TranslatorCpuTime} times the same operations by CPU time.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TranslatorBenchmark {
  static final ServiceId CLIENT = ServiceId.of("app", "ns", "client", "ns");
  static final ServiceId SERVER = ServiceId.of("app", "ns", "server", "ns");
  static final WorkerEndpoint N1 = WorkerEndpoint.of("n1", new InetSocketAddress(ip("192.0.2.1"), 51820), new byte[0]);
  static final WorkerEndpoint N2 = WorkerEndpoint.of("n2", new InetSocketAddress(ip("192.0.2.2"), 51820), new byte[0]);

  SemnetNode node;
  SemnetTranslator translator;
  CountingTunnel tunnel;
  CountingIo io;
  ByteBuffer buf;
  ByteBuffer tcp4;
  ByteBuffer udp6;
  ByteBuffer reply4;
  ByteBuffer newUdp4;
  int port;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    InstanceRecord clientA = InstanceRecord.of(CLIENT, 0, ip("172.30.1.1"), ip("fd53::1:1"),
        Locator.of(ip("10.1.0.2"), ip("fd00:1::2"), N1, 1), InstanceMetadata.NONE);
    InstanceRecord server0 = InstanceRecord.of(SERVER, 0, ip("172.30.2.1"), ip("fd53::2:1"),
        Locator.of(ip("10.2.0.2"), ip("fd00:2::2"), N2, 1), InstanceMetadata.NONE);
    InstanceRecord server1 = InstanceRecord.of(SERVER, 1, ip("172.30.2.2"), ip("fd53::2:2"),
        Locator.of(ip("10.2.0.3"), ip("fd00:2::3"), N2, 1), InstanceMetadata.NONE);
    ServiceRecord record = ServiceRecord.of(SERVER, 1,
        List.of(ServiceIp.of(SERVER, "rr", ip("172.30.0.10")), ServiceIp.of(SERVER, "rr", ip("fd53::10"))),
        List.of(server0, server1));
    MapResolver resolver = new MapResolver();
    for (ServiceIp s : record.serviceIps()) {
      resolver.routes.put(s.address(), Route.of(s, record));
    }
    LocalInstances locals = new LocalInstances();
    locals.attach(clientA);
    // The built-in round-robin policy, found through ServiceLoader like in a real node.
    RoutingPolicyRegistry policies = RoutingPolicyRegistry.getDefaultRegistry();
    if (!policies.contains("rr")) {
      throw new IllegalStateException("built-in policy rr not found: " + policies.policyNames());
    }
    tunnel = new CountingTunnel();
    io = new CountingIo();
    translator = SemnetTranslator.builder().maxFlows(1 << 14).build();
    node = SemnetNode.builder("n1").view(new LocalNodeView("n1", null)).localInstances(locals).policies(policies)
        .resolver(resolver).tunnel(tunnel).translator(translator).packetIo(io).build();
    node.start();

    buf = ByteBuffer.allocateDirect(2048);
    tcp4 = direct(v4("10.1.0.2", "172.30.0.10", 6, tcp(40000, 80, 0x10, 64)));
    udp6 = direct(v6("fd00:1::2", "fd53::10", 17, udp(5353, 53, 64)));
    // The reply of the TCP flow as the server's node sends it: server InstanceIP -> client InstanceIP.
    reply4 = direct(v4(Addresses.format(server0.instanceIpv4().address()), "172.30.1.1", 6, tcp(80, 40000, 0x10, 64)));
    newUdp4 = direct(v4("10.1.0.2", "172.30.0.10", 17, udp(1, 53, 64)));
    // Establish the flows once.
    establishedTcp4();
    establishedUdp6();
    translator.onPacketBatchEnd();
    ByteBuffer b = prepare(reply4);
    translator.onData(rrChosen(), b);
    if (translator.counter(Counter.TRANSLATED_IN) != 1 || translator.drops() != 0) {
      throw new IllegalStateException("set-up did not establish the flows: " + translator.counters());
    }
  }

  /** The peer that the round-robin gave the TCP flow (both instances are on n2). */
  private WorkerEndpoint rrChosen() {
    return N2;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (translator.drops() != 0) {
      throw new IllegalStateException("packets were dropped: " + translator.counters());
    }
    node.close();
  }

  private ByteBuffer prepare(ByteBuffer template) {
    ByteBuffer b = buf;
    int n = template.capacity();
    b.clear();
    b.put(0, template, 0, n);
    b.limit(n);
    return b;
  }

  @Benchmark
  public int copyOnly() {
    return prepare(tcp4).limit();
  }

  /** Packet of an established IPv4 TCP flow from a local client, to the tunnel. */
  @Benchmark
  public long establishedTcp4() {
    translator.onPacket(prepare(tcp4));
    return tunnel.sent;
  }

  /** Packet of an established IPv6 UDP flow from a local client, to the tunnel. */
  @Benchmark
  public long establishedUdp6() {
    translator.onPacket(prepare(udp6));
    return tunnel.sent;
  }

  /** Reply arriving from the server's node, reverse-translated and written to the TUN. */
  @Benchmark
  public long reverseTcp4() {
    translator.onData(N2, prepare(reply4));
    return io.written;
  }

  /**
   * First packet of a new IPv4 UDP flow: policy choice, two table inserts, view update. The table
   * is cleared every 4096 flows so it never fills (the clearing is included, amortised). Each packet
   * is a batch of its own (the TUN reader ends a batch after at most a few dozen packets): the batch
   * end is the reader's quiescent point, after which removed flows' objects are recycled, so this
   * counts the worst case of one batch end per new flow.
   */
  @Benchmark
  public long newFlowUdp4() {
    ByteBuffer b = prepare(newUdp4);
    int p = port = (port + 1) & 0x0fff;
    if (p == 0) {
      translator.clearFlows();
    }
    // Vary the source port; the UDP checksum is fixed up for the change of port.
    int old = b.getShort(20) & 0xffff;
    int np = 1024 + p;
    b.putShort(20, (short) np);
    Checksums.adjustUdpAt(b, 26, Checksums.wordDelta(old, np));
    translator.onPacket(b);
    translator.onPacketBatchEnd();
    return tunnel.sent;
  }

  // ------------------------------------------------------------------ packet crafting

  static InetAddress ip(String s) {
    return Addresses.parseLiteral(s);
  }

  static ByteBuffer direct(byte[] p) {
    ByteBuffer b = ByteBuffer.allocateDirect(p.length);
    b.put(p).flip();
    return b;
  }

  static byte[] tcp(int sp, int dp, int flags, int payload) {
    byte[] t = new byte[20 + payload];
    ByteBuffer b = ByteBuffer.wrap(t);
    b.putShort(0, (short) sp).putShort(2, (short) dp).putInt(4, 1).put(12, (byte) 0x50).put(13, (byte) flags).putShort(14, (short) 65535);
    return t;
  }

  static byte[] udp(int sp, int dp, int payload) {
    byte[] u = new byte[8 + payload];
    ByteBuffer.wrap(u).putShort(0, (short) sp).putShort(2, (short) dp).putShort(4, (short) u.length);
    return u;
  }

  static byte[] v4(String src, String dst, int proto, byte[] l4) {
    byte[] p = new byte[20 + l4.length];
    ByteBuffer b = ByteBuffer.wrap(p);
    b.put(0, (byte) 0x45).putShort(2, (short) p.length).putShort(6, (short) 0x4000).put(8, (byte) 64).put(9, (byte) proto);
    b.put(12, ip(src).getAddress()).put(16, ip(dst).getAddress());
    System.arraycopy(l4, 0, p, 20, l4.length);
    ByteBuffer d = ByteBuffer.wrap(p);
    d.putShort(10, (short) Checksums.finish(Checksums.sum(d, 0, 20, 0)));
    long pseudo = Checksums.sum(d, 12, 8, 0) + proto + l4.length;
    d.putShort(20 + (proto == 6 ? 16 : 6), (short) Checksums.finish(Checksums.sum(d, 20, l4.length, pseudo)));
    return p;
  }

  static byte[] v6(String src, String dst, int proto, byte[] l4) {
    byte[] p = new byte[40 + l4.length];
    ByteBuffer b = ByteBuffer.wrap(p);
    b.putInt(0, 0x60000000).putShort(4, (short) l4.length).put(6, (byte) proto).put(7, (byte) 64);
    b.put(8, ip(src).getAddress()).put(24, ip(dst).getAddress());
    System.arraycopy(l4, 0, p, 40, l4.length);
    long pseudo = Checksums.sum(b, 8, 32, 0) + proto + l4.length;
    b.putShort(40 + (proto == 6 ? 16 : 6), (short) Checksums.finish(Checksums.sum(b, 40, l4.length, pseudo)));
    return p;
  }

  // ------------------------------------------------------------------ stand-ins for the other layers

  static final class CountingTunnel implements Tunnel {
    long sent;

    @Override
    public void start(NodeContext context) {}

    @Override
    public WorkerEndpoint localEndpoint() {
      return N1;
    }

    @Override
    public void send(WorkerEndpoint peer, ByteBuffer packet) {
      sent += packet.remaining();
    }

    @Override
    public void sendRouteNotFound(WorkerEndpoint peer, InetAddress namespaceIp) {}

    @Override
    public int overheadBytes(boolean ipv6Underlay) {
      return 60;
    }

    @Override
    public void close() {}
  }

  static final class CountingIo implements PacketIo {
    long written;

    @Override
    public void start(NodeContext context) {}

    @Override
    public void write(ByteBuffer packet) {
      written += packet.remaining();
    }

    @Override
    public int mtu() {
      return 1400;
    }

    @Override
    public void close() {}
  }

  static final class MapResolver implements RouteResolver {
    final Map<InetAddress, Route> routes = new HashMap<>();

    @Override
    public void start(NodeContext context) {}

    @Override
    public Route cached(InetAddress virtualIp) {
      return routes.get(virtualIp);
    }

    @Override
    public CompletionStage<Resolution> resolve(InetAddress virtualIp) {
      Route r = routes.get(virtualIp);
      return CompletableFuture.completedFuture(r == null ? Resolution.notFound("none") : Resolution.found(r));
    }

    @Override
    public CompletionStage<Resolution> resolve(SemanticName name) {
      return CompletableFuture.completedFuture(Resolution.notFound("none"));
    }

    @Override
    public void addListener(RouteListener listener) {}

    @Override
    public void removeListener(RouteListener listener) {}

    @Override
    public IsolationRules isolationRules() {
      return IsolationRules.DEFAULT;
    }

    @Override
    public boolean isOnline() {
      return true;
    }

    @Override
    public void close() {}
  }
}
