package io.semnet.proxy;

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
import io.semnet.core.route.Resolution;
import io.semnet.core.route.Route;
import io.semnet.core.route.RouteListener;
import io.semnet.core.service.SemanticName;
import io.semnet.core.service.ServiceId;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A node "n1" with a translator, a recording packet I/O and tunnel, and a scripted resolver.
 *
 * <p>Addresses: client instance A (service app.ns.client.ns #0) on n1: ns 10.1.0.2 / fd00:1::2,
 * InstanceIP 172.30.1.1 / fd53::1:1. Server service app.ns.server.ns, ServiceIP 172.30.0.10 /
 * fd53::10 (policy "first"): instance #0 on peer n2 (ns 10.2.0.2 / fd00:2::2, InstanceIP
 * 172.30.2.1 / fd53::2:1) and instance #1 on n1 (ns 10.1.0.3 / fd00:1::3, InstanceIP 172.30.2.2 /
 * fd53::2:2). Service app.other.secret.other (another app namespace): ServiceIP 172.30.0.20, instance on n2.
 * Remote clients app.ns.remote.ns (their InstanceIPs are what peers may use as sources, by the
 * signed records): #0 on n3 (InstanceIP 172.30.9.9 / fd53::9:9), #1 on n2 (172.30.8.8 / fd53::8:8).
 */
public final class Harness implements AutoCloseable {
  public static final ServiceId CLIENT = ServiceId.of("app", "ns", "client", "ns");
  public static final ServiceId SERVER = ServiceId.of("app", "ns", "server", "ns");
  public static final ServiceId SECRET = ServiceId.of("app", "other", "secret", "other");
  public static final ServiceId REMOTE = ServiceId.of("app", "ns", "remote", "ns");
  public static final WorkerEndpoint N1 = endpoint("n1", "192.0.2.1");
  public static final WorkerEndpoint N2 = endpoint("n2", "192.0.2.2");
  public static final WorkerEndpoint N3 = endpoint("n3", "192.0.2.3");

  public final RecordingIo io = new RecordingIo();
  public final RecordingTunnel tunnel = new RecordingTunnel();
  public final FakeResolver resolver = new FakeResolver();
  public final LocalInstances locals = new LocalInstances();
  public final LocalNodeView view = new LocalNodeView("n1", null);
  public final SemnetTranslator translator;
  public final SemnetNode node;
  public final InstanceRecord clientA;
  public final InstanceRecord server0;
  public final InstanceRecord server1;
  public ServiceRecord serverRecord;
  public ServiceRecord remoteRecord;
  /** Which candidate the "first" policy picks (index into the candidate set). */
  public volatile int pick;

  public Harness() throws Exception {
    this(SemnetTranslator.builder().tunnelOverhead(60));
  }

  public Harness(TranslatorBuilder builder) throws Exception {
    clientA = InstanceRecord.of(CLIENT, 0, ip("172.30.1.1"), ip("fd53::1:1"),
        Locator.of(ip("10.1.0.2"), ip("fd00:1::2"), N1, 1), InstanceMetadata.NONE);
    server0 = InstanceRecord.of(SERVER, 0, ip("172.30.2.1"), ip("fd53::2:1"),
        Locator.of(ip("10.2.0.2"), ip("fd00:2::2"), N2, 1), InstanceMetadata.NONE);
    server1 = InstanceRecord.of(SERVER, 1, ip("172.30.2.2"), ip("fd53::2:2"),
        Locator.of(ip("10.1.0.3"), ip("fd00:1::3"), N1, 1), InstanceMetadata.NONE);
    locals.attach(clientA);
    locals.attach(server1);
    serverRecord = ServiceRecord.of(SERVER, 1,
        List.of(ServiceIp.of(SERVER, "first", ip("172.30.0.10")), ServiceIp.of(SERVER, "first", ip("fd53::10"))),
        List.of(server0, server1));
    setServerRecord(serverRecord);
    InstanceRecord secret0 = InstanceRecord.of(SECRET, 0, ip("172.30.3.1"), null,
        Locator.of(ip("10.2.0.9"), null, N2, 1), InstanceMetadata.NONE);
    ServiceRecord secret = ServiceRecord.of(SECRET, 1, List.of(ServiceIp.of(SECRET, "first", ip("172.30.0.20"))), List.of(secret0));
    resolver.routes.put(ip("172.30.0.20"), Route.of(secret.serviceIps().get(0), secret));
    resolver.routes.put(ip("172.30.3.1"), Route.of(secret0.instanceIpv4(), secret));
    setRemoteRecord(ServiceRecord.of(REMOTE, 1, List.of(ServiceIp.of(REMOTE, "first", ip("172.30.0.30"))), List.of(
        InstanceRecord.of(REMOTE, 0, ip("172.30.9.9"), ip("fd53::9:9"), Locator.of(ip("10.3.0.9"), ip("fd00:3::9"), N3, 1),
            InstanceMetadata.NONE),
        InstanceRecord.of(REMOTE, 1, ip("172.30.8.8"), ip("fd53::8:8"), Locator.of(ip("10.2.0.8"), ip("fd00:2::8"), N2, 1),
            InstanceMetadata.NONE))));
    RoutingPolicyRegistry policies = new RoutingPolicyRegistry();
    policies.register(new RoutingPolicyProvider() {
      @Override
      public String policyName() {
        return "first";
      }

      @Override
      public RoutingPolicy newPolicy() {
        return new RoutingPolicy() {
          @Override
          public String name() {
            return "first";
          }

          @Override
          public InstanceSelector newSelector() {
            return Harness.this::first;
          }
        };
      }
    });
    translator = builder.build();
    node = SemnetNode.builder("n1").view(view).localInstances(locals).policies(policies)
        .resolver(resolver).tunnel(tunnel).translator(translator).packetIo(io).build();
    node.start();
  }

  /** The "first" policy: candidate {@code pick} (or the last), else the next available one after it. */
  private int first(CandidateSet c, long key, NodeView v) {
    int n = c.size();
    if (n == 0) {
      return InstanceSelector.NONE;
    }
    int start = Math.min(pick, n - 1);
    for (int i = 0; i < n; i++) {
      int idx = (start + i) % n;
      if (v.isAvailable(c.get(idx))) {
        return idx;
      }
    }
    return InstanceSelector.NONE;
  }

  /** Publishes a server record: cached routes for both ServiceIPs and all InstanceIPs. */
  public void setServerRecord(ServiceRecord r) {
    ServiceRecord prev = serverRecord;
    serverRecord = r;
    for (ServiceIp s : r.serviceIps()) {
      resolver.routes.put(s.address(), Route.of(s, r));
    }
    for (InstanceRecord i : r.instances()) {
      resolver.routes.put(i.instanceIpv4().address(), Route.of(i.instanceIpv4(), r));
      resolver.routes.put(i.instanceIpv6().address(), Route.of(i.instanceIpv6(), r));
    }
    for (RouteListener l : resolver.listeners) {
      l.onRecordUpdated(prev, r);
    }
  }

  /** Publishes the remote clients' record (cached routes of their InstanceIPs; no listener is told). */
  public void setRemoteRecord(ServiceRecord r) {
    remoteRecord = r;
    for (InstanceRecord i : r.instances()) {
      resolver.routes.put(i.instanceIpv4().address(), Route.of(i.instanceIpv4(), r));
      resolver.routes.put(i.instanceIpv6().address(), Route.of(i.instanceIpv6(), r));
    }
  }

  /** Sends a packet as if read from the TUN (one batch). */
  public void fromTun(byte[] packet) {
    ByteBuffer b = ByteBuffer.allocateDirect(packet.length + 64);
    b.position(16);
    b.put(packet);
    b.flip().position(16);
    translator.onPacket(b);
    translator.onPacketBatchEnd();
  }

  /** Delivers a packet as if received from {@code peer}. */
  public void fromPeer(WorkerEndpoint peer, byte[] packet) {
    ByteBuffer b = ByteBuffer.allocateDirect(packet.length);
    b.put(packet).flip();
    translator.onData(peer, b);
    translator.onTunnelBatchEnd();
  }

  public long count(Counter c) {
    return translator.counter(c);
  }

  @Override
  public void close() {
    node.close();
  }

  public static InetAddress ip(String s) {
    return Addresses.parseLiteral(s);
  }

  static WorkerEndpoint endpoint(String id, String ip) {
    return WorkerEndpoint.of(id, new InetSocketAddress(ip(ip), 51820), new byte[0]);
  }

  static byte[] bytes(ByteBuffer b) {
    byte[] a = new byte[b.remaining()];
    b.duplicate().get(a);
    return a;
  }

  /** Packet I/O that records what is written. */
  public static final class RecordingIo implements PacketIo {
    public final List<byte[]> written = new CopyOnWriteArrayList<>();
    public final AtomicInteger flushes = new AtomicInteger();

    @Override
    public void start(NodeContext context) {}

    @Override
    public void write(ByteBuffer packet) {
      written.add(bytes(packet));
    }

    @Override
    public void flush() {
      flushes.incrementAndGet();
    }

    @Override
    public int mtu() {
      return 1400;
    }

    @Override
    public void close() {}

    public byte[] take() {
      if (written.isEmpty()) {
        throw new AssertionError("nothing was written to the TUN");
      }
      return written.remove(0);
    }
  }

  /** A tunnel that records sends and route-not-found notices. */
  public static final class RecordingTunnel implements Tunnel {
    public final List<Map.Entry<WorkerEndpoint, byte[]>> sent = new CopyOnWriteArrayList<>();
    public final List<Map.Entry<WorkerEndpoint, InetAddress>> notFound = new CopyOnWriteArrayList<>();
    public final AtomicInteger flushes = new AtomicInteger();
    /** Peers whose link is still being set up ({@link #isReady} false). */
    public final java.util.Set<WorkerEndpoint> notReady = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @Override
    public void start(NodeContext context) {}

    /** Peers {@link #isReady} was asked about (asking starts a link's set-up). */
    public final java.util.Set<WorkerEndpoint> asked = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @Override
    public boolean isReady(WorkerEndpoint peer) {
      asked.add(peer);
      return !notReady.contains(peer);
    }

    @Override
    public WorkerEndpoint localEndpoint() {
      return N1;
    }

    @Override
    public void send(WorkerEndpoint peer, ByteBuffer packet) {
      sent.add(Map.entry(peer, bytes(packet)));
    }

    @Override
    public void sendRouteNotFound(WorkerEndpoint peer, InetAddress namespaceIp) {
      notFound.add(Map.entry(peer, namespaceIp));
    }

    @Override
    public void flush() {
      flushes.incrementAndGet();
    }

    @Override
    public int overheadBytes(boolean ipv6Underlay) {
      return 60;
    }

    @Override
    public void close() {}

    public Map.Entry<WorkerEndpoint, byte[]> take() {
      if (sent.isEmpty()) {
        throw new AssertionError("nothing was sent to the tunnel");
      }
      return sent.remove(0);
    }
  }

  /** Cached routes from a map; resolve() answers from the map or, when held, later. */
  public static final class FakeResolver implements RouteResolver {
    public final Map<InetAddress, Route> routes = new ConcurrentHashMap<>();
    /** Addresses whose routes are not cached yet (cached() misses, resolve() answers). */
    public final Map<InetAddress, Boolean> uncached = new ConcurrentHashMap<>();
    public final Map<InetAddress, CompletableFuture<Resolution>> held = new ConcurrentHashMap<>();
    public final List<RouteListener> listeners = new CopyOnWriteArrayList<>();
    public final AtomicInteger cachedCalls = new AtomicInteger();
    public final AtomicInteger resolveCalls = new AtomicInteger();
    public volatile boolean hold;
    public volatile IsolationRules rules = IsolationRules.DEFAULT;

    @Override
    public void start(NodeContext context) {}

    @Override
    public Route cached(InetAddress virtualIp) {
      cachedCalls.incrementAndGet();
      return uncached.containsKey(virtualIp) ? null : routes.get(virtualIp);
    }

    @Override
    public CompletionStage<Resolution> resolve(InetAddress virtualIp) {
      resolveCalls.incrementAndGet();
      if (hold) {
        return held.computeIfAbsent(virtualIp, k -> new CompletableFuture<>());
      }
      return CompletableFuture.completedFuture(answer(virtualIp));
    }

    public Resolution answer(InetAddress ip) {
      uncached.remove(ip);
      Route r = routes.get(ip);
      return r == null ? Resolution.notFound("no route for " + ip) : Resolution.found(r);
    }

    /** Completes a held resolution with the current answer. */
    public void release(InetAddress ip) {
      held.remove(ip).complete(answer(ip));
    }

    @Override
    public CompletionStage<Resolution> resolve(SemanticName name) {
      return CompletableFuture.completedFuture(Resolution.notFound("names are not used here"));
    }

    @Override
    public void addListener(RouteListener listener) {
      listeners.add(listener);
    }

    @Override
    public void removeListener(RouteListener listener) {
      listeners.remove(listener);
    }

    @Override
    public IsolationRules isolationRules() {
      return rules;
    }

    @Override
    public boolean isOnline() {
      return true;
    }

    @Override
    public void close() {}
  }

  /** Waits (5 s at most) until {@code c} holds. */
  public static void await(java.util.function.BooleanSupplier c) throws InterruptedException {
    long deadline = System.nanoTime() + java.time.Duration.ofSeconds(5).toNanos();
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out");
      }
      Thread.sleep(2);
    }
  }

  public static List<byte[]> drain(List<byte[]> l) {
    List<byte[]> out = new ArrayList<>(l);
    l.clear();
    return out;
  }
}
