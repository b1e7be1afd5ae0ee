package io.semnet.node;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.node.LocalInstances;
import io.semnet.core.node.SemnetNode;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.stats.Stat;
import io.semnet.core.stats.StatsSource;
import io.semnet.core.stats.StatsVisitor;
import io.semnet.mdns.SemanticNameResponder;
import io.semnet.node.internal.NodeNetwork;
import io.semnet.proxy.SemnetTranslator;
import io.semnet.proxy.TranslatorBuilder;
import io.semnet.proxy.tun.NetworkNamespace;
import io.semnet.proxy.tun.TunDevice;
import io.semnet.resolver.NodeRegistration;
import io.semnet.resolver.RecordVerifier;
import io.semnet.resolver.WorkerResolver;
import io.semnet.tunnel.UdpTunnel;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A complete SemNet worker node, built by {@link #builder(NodeRegistration)}: the node bridge
 * (gateway = first address of each node subnet), a TUN device whose MTU leaves room for the tunnel's
 * overhead, routes of the address plan's virtual and platform ranges into it, forwarding sysctls,
 * the translator, the authenticated UDP tunnel, the worker resolver and the DNS/mDNS responder on
 * the bridge, in the node's network namespace or the current one. The layers run in a
 * {@link SemnetNode} (core's lifecycle container), which starts them in dependency order.
 *
 * <p>Guarantees: {@link #start()} either leaves the node running or throws having undone
 * everything it did (devices, routes, sysctls, sockets); {@link #close()} undoes everything, also
 * every instance's veth, host routes and PID namespace names, and is idempotent. Instances are
 * attached by network namespace name or process id ({@link InstanceTarget}); the phases of a
 * stateful migration are {@link #freeze} at the source, {@link #restore} at the destination
 * (keeping the instance's namespace addresses) and {@link #publish}. Instance operations are
 * thread-safe and serialised; a failed one undoes its wiring.
 */
public final class WorkerNode implements AutoCloseable, StatsSource {
  private static final Logger log = LoggerFactory.getLogger(WorkerNode.class);
  private static final Stat DROPS = Stat.counter("semnet.node.drops",
      "Packets the node's anti-spoofing tables dropped before the translator: spoofed (a MAC or source address the "
          + "instance does not own) and bypass (to another instance's namespace address through the node's routing)", "reason");
  private static final Stat INSTANCES = Stat.gauge("semnet.node.instances", "Instances this node serves");

  private enum State { NEW, RUNNING, CLOSED }

  private final NodeRegistration registration;
  private final AddressPlan plan;
  private final String namespace;
  private final String bridgeName;
  private final String tunName;
  private final int tunMtu;
  private final boolean nameResponderOn;
  private final WorkerResolver resolver;
  private final UdpTunnel tunnel;
  private final SemnetTranslator translator;
  private final SemanticNameResponder responder;
  private final NodeNetwork network;
  private final LocalInstances localInstances = new LocalInstances();
  private final LocalNodeView view;
  private SemnetNode node;
  private volatile TunDevice tun;
  private State state = State.NEW;
  private boolean cleanedUp;

  WorkerNode(WorkerNodeBuilder b) {
    this.registration = b.registration;
    this.plan = b.plan;
    this.namespace = b.namespace;
    this.bridgeName = b.bridgeName;
    this.tunName = b.tunName;
    this.nameResponderOn = b.nameResponder;
    this.view = new LocalNodeView(registration.nodeId(), registration.location());
    boolean v6Underlay = registration.endpoint().address().getAddress() instanceof Inet6Address;

    UdpTunnel.Builder tb = UdpTunnel.builder()
        .nodeId(registration.nodeId())
        .bind(b.bindAddress())
        .advertisedAddress(registration.endpoint().address())
        .rootTrust(b.rootTrust)
        .plaintext(b.plaintext);
    if (b.keys != null && registration.certificate() != null) {
      tb.identity(b.keys, registration.certificate());
    }
    b.tunnelOptions.forEach(o -> o.accept(tb));
    this.tunnel = tb.build();
    this.tunMtu = b.underlayMtu - tunnel.overheadBytes(v6Underlay);

    TranslatorBuilder xb = SemnetTranslator.builder().underlayMtu(b.underlayMtu).ipv6Underlay(v6Underlay)
        .migrationBuffering(b.migrationBuffering);
    b.translatorOptions.forEach(o -> o.accept(xb));
    this.translator = xb.build();

    if (b.resolver != null) {
      this.resolver = b.resolver;
    } else {
      WorkerResolver.Builder rb = WorkerResolver.builder().nodeId(registration.nodeId()).manager(registration.clusterId())
          .transport(b.transport).verifier(RecordVerifier.of(b.rootTrust)).location(registration.location());
      b.resolverOptions.forEach(o -> o.accept(rb));
      this.resolver = rb.build();
    }
    // The root's revocation list reaches the node through its resolver: revoked peers lose their links.
    resolver.onRevocations(tunnel::revokeCertificates);

    this.network = new NodeNetwork(namespace, registration.nodeId(), registration.subnetV4(), registration.subnetV6(), plan,
        bridgeName, tunName, tunMtu, b.antiSpoofing);
    if (b.nameResponder) {
      SemanticNameResponder.Builder sb = SemanticNameResponder.builder()
          .bridgeInterface(bridgeName)
          .bridgeAddresses(network.bridgeCidrs())
          .refuseOutOfZone(b.dnsUpstreams.isEmpty());
      if (!b.dnsUpstreams.isEmpty()) {
        sb.upstreams(b.dnsUpstreams.toArray(new String[0]));
      }
      b.responderOptions.forEach(o -> o.accept(sb));
      this.responder = sb.build();
    } else {
      this.responder = null;
    }
  }

  /** A builder for the node {@code registration} describes (as the root registered it). */
  public static WorkerNodeBuilder builder(NodeRegistration registration) {
    return new WorkerNodeBuilder(registration);
  }

  /**
   * Sets up the bridge, sysctls, TUN device and routes, then starts resolver, tunnel, translator,
   * TUN reader and name responder inside the node's namespace. If any step fails, everything done
   * so far is undone and the exception is rethrown; the node is then closed.
   *
   * @return this node
   * @throws IllegalStateException if the node was started or closed before
   */
  public synchronized WorkerNode start() throws Exception {
    if (state != State.NEW) {
      throw new IllegalStateException("node " + nodeId() + " is " + state + ", it can only be started once");
    }
    state = State.CLOSED; // until it runs: a failed start leaves a closed node
    try {
      tun = network.setUp();
      SemnetNode.Builder nb = SemnetNode.builder(nodeId()).view(view).localInstances(localInstances)
          .resolver(resolver).tunnel(tunnel).translator(translator).packetIo(tun);
      if (responder != null) {
        nb.nameResponder(responder);
      }
      node = nb.build();
      if (namespace == null) {
        node.start();
      } else {
        NetworkNamespace.run(namespace, node::start);
      }
    } catch (Exception | Error e) {
      log.error("node {}: start failed, undoing the set-up", nodeId(), e);
      closeAll();
      throw e;
    }
    state = State.RUNNING;
    log.info("node {} running{}: TUN {} (MTU {}), bridge {} ({}), tunnel {}", nodeId(),
        namespace == null ? "" : " in namespace " + namespace, tunName, tunMtu, bridgeName,
        String.join(", ", network.bridgeCidrs()), tunnel.boundAddress());
    return this;
  }

  /** Undoes everything the node did (components, instances' wiring, devices, routes, sysctls). Idempotent. */
  @Override
  public synchronized void close() {
    state = State.CLOSED;
    closeAll();
  }

  private void closeAll() {
    if (cleanedUp) {
      return;
    }
    cleanedUp = true;
    if (node != null) {
      node.close(); // the started components, in reverse order
      node = null;
    }
    // What the container never started (a start that failed midway, or none); each close is idempotent.
    closeQuietly(responder);
    closeQuietly(tun);
    tun = null;
    closeQuietly(translator);
    closeQuietly(tunnel);
    closeQuietly(resolver);
    closeQuietly(network);
  }

  private void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      log.warn("node {}: closing {} failed", nodeId(), c.getClass().getSimpleName(), e);
    }
  }

  public synchronized boolean isRunning() {
    return state == State.RUNNING;
  }

  // ---------------------------------------------------------------- instances

  /**
   * Attaches an instance: wires its namespace to the bridge (a veth, the next free addresses of
   * the node's subnets, default routes via the bridge), has {@code placement} publish its locator,
   * and serves it locally. On failure the wiring is undone and nothing is served.
   */
  public synchronized Attachment attach(InstanceTarget target, Placement placement) {
    requireRunning();
    Objects.requireNonNull(placement, "placement");
    NodeNetwork.Wired w = wire(target, null, null);
    Locator loc = Locator.of(w.ipv4(), w.ipv6(), endpoint(), 0);
    InstanceRecord placed;
    try {
      placed = Objects.requireNonNull(placement.place(loc), "the placement returned no record");
      localInstances.attach(placed);
    } catch (RuntimeException e) {
      network.unwire(w, false);
      throw e;
    }
    return attachment(target, w, false, loc, placed);
  }

  /**
   * Forgets an instance (it died or was removed) and removes its wiring: veth, host routes if it
   * kept addresses from another node, the name given to a PID's namespace. The control plane is
   * not told (the orchestrator does that). Harmless if the namespace is already gone.
   */
  public synchronized void detach(Attachment a) {
    Objects.requireNonNull(a, "attachment");
    if (a.record() != null) {
      localInstances.detach(a.record().key());
    }
    network.unwire(wired(a), a.keptAddresses());
  }

  /**
   * Migration phase 1, at the source: holds (if {@code buffering}, else drops and counts) the
   * instance's packets for replay at {@code destination} and removes its wiring. The instance's
   * namespace itself lives on (checkpointed, or moved by the runtime).
   */
  public synchronized void freeze(Attachment a, WorkerEndpoint destination, boolean buffering) {
    requireRunning();
    Objects.requireNonNull(a.record(), "the attachment has no record");
    translator.freeze(a.record(), buffering, Objects.requireNonNull(destination, "destination"));
    detach(a);
  }

  /**
   * Migration phase 2, at the destination: wires the instance's namespace keeping the namespace
   * addresses of {@code before} (as /32 and /128 with on-link default routes via this bridge, and
   * host routes to them here) and serves it locally with the new locator at once, so packets the
   * root's push attracts are delivered. The root is not told yet: call {@link #publish} next.
   */
  public synchronized Attachment restore(InstanceTarget target, InstanceRecord before) {
    requireRunning();
    Locator old = Objects.requireNonNull(before.locator(), "the instance has no locator");
    NodeNetwork.Wired w = wire(target, old.namespaceIpv4(), old.namespaceIpv6());
    Locator loc = Locator.of(w.ipv4(), w.ipv6(), endpoint(), 0);
    boolean moved = !old.worker().nodeId().equals(nodeId());
    if (moved) {
      // The node left may forward what it held and relay replies until the root's record says so.
      loc = loc.movedFrom(old.worker(), System.currentTimeMillis());
    }
    InstanceRecord local = before.withLocator(loc);
    if (moved) {
      translator.expectReplay(local, old.worker().nodeId());
    }
    localInstances.attach(local);
    return attachment(target, w, true, loc, local);
  }

  /**
   * Migration phase 3: has {@code placement} (typically {@code orchestration.migrate}) publish the
   * restored instance's locator and serves the published record. If the control plane refuses, the
   * instance stays served here under its local record and the exception is rethrown.
   */
  public synchronized Attachment publish(Attachment restored, Placement placement) {
    requireRunning();
    InstanceRecord placed = Objects.requireNonNull(placement.place(restored.locator()), "the placement returned no record");
    localInstances.attach(placed);
    // Not translator.announceRestore here: the node left would replay before this node's cluster
    // manager applied the root's record, and its queries for the replayed packets' senders were
    // answered not-found (not visible yet: 3,411 DROP_SOURCE_NOT_OWNED in one run at load 30).
    // The root's push to the node left releases it, after the cluster applied (causal).
    return restored.withRecord(placed);
  }

  private NodeNetwork.Wired wire(InstanceTarget target, InetAddress keep4, InetAddress keep6) {
    Objects.requireNonNull(target, "target");
    boolean named = target.netns() != null;
    String ns = named ? target.netns() : network.nameNamespaceOf(target.pid());
    try {
      if (named && !NetworkNamespace.exists(ns)) {
        throw new IllegalArgumentException("no network namespace '" + ns + "'");
      }
      boolean keep = keep4 != null || keep6 != null;
      return keep ? network.wireKeeping(ns, named, target.interfaceName(), keep4, keep6)
          : network.wire(ns, named, target.interfaceName());
    } catch (RuntimeException e) {
      if (!named) {
        network.forgetName(ns);
      }
      throw e;
    }
  }

  private static Attachment attachment(InstanceTarget t, NodeNetwork.Wired w, boolean kept, Locator loc, InstanceRecord r) {
    return new Attachment(t, w.namespace(), w.ipv4(), w.ipv6(), w.hostVeth(), kept, loc, r);
  }

  private static NodeNetwork.Wired wired(Attachment a) {
    return new NodeNetwork.Wired(a.namespace(), a.ipv4(), a.ipv6(), a.hostVeth(), a.target().netns() != null);
  }

  private void requireRunning() {
    if (state != State.RUNNING) {
      throw new IllegalStateException("node " + nodeId() + " is not running");
    }
  }

  // ---------------------------------------------------------------- what it is made of

  public String nodeId() {
    return registration.nodeId();
  }

  public NodeRegistration registration() {
    return registration;
  }

  /** This node's tunnel endpoint as registered (what locators of its instances carry). */
  public WorkerEndpoint endpoint() {
    return registration.endpoint();
  }

  public AddressPlan plan() {
    return plan;
  }

  /** The node's network namespace, or null if it runs in the current one. */
  public String namespace() {
    return namespace;
  }

  public String bridgeName() {
    return bridgeName;
  }

  public String tunName() {
    return tunName;
  }

  /** The TUN MTU: the underlay MTU minus the tunnel's overhead (outer IP and UDP headers, datagram header, AEAD tag). */
  public int tunMtu() {
    return tunMtu;
  }

  /** The prefixes routed into the TUN device (the plan's virtual and platform ranges). */
  public List<String> tunRoutes() {
    return network.tunRoutes();
  }

  /** The bridge's IPv4 address: gateway and DNS server of the node's instances (null without an IPv4 subnet). */
  public InetAddress gatewayIpv4() {
    return network.gatewayIpv4();
  }

  /** The bridge's IPv6 address (null without an IPv6 subnet). */
  public InetAddress gatewayIpv6() {
    return network.gatewayIpv6();
  }

  public SemnetTranslator translator() {
    return translator;
  }

  public UdpTunnel tunnel() {
    return tunnel;
  }

  public WorkerResolver resolver() {
    return resolver;
  }

  /** The DNS/mDNS responder, or null if disabled. */
  public SemanticNameResponder responder() {
    return nameResponderOn ? responder : null;
  }

  /** RTTs and liveness of peers as this node measures them. */
  public LocalNodeView view() {
    return view;
  }

  /**
   * The nftables tables ({@code bridge} and {@code inet} families, same name) that pin each
   * instance's bridge port to its MAC and addresses, or null when anti-spoofing is off.
   */
  public String antiSpoofingTable() {
    return network.firewallTable();
  }

  /**
   * Packets the node dropped because an instance used a MAC or source address it does not own (or
   * sent from a port not yet pinned); 0 when anti-spoofing is off. They never reach the translator.
   */
  public long spoofedDrops() {
    return network.spoofedDrops();
  }

  /**
   * Packets the node dropped because an instance sent them to another instance's namespace address
   * through the node's routing instead of through the TUN; 0 when anti-spoofing is off.
   */
  public long bypassDrops() {
    return network.bypassDrops();
  }

  /** The instances this node serves. */
  public LocalInstances localInstances() {
    return localInstances;
  }

  /**
   * Reports the statistics of every part of the node: translator ({@code semnet.translator.*}),
   * tunnel ({@code semnet.tunnel.*}, per peer {@code semnet.peer.*}), resolver
   * ({@code semnet.resolver.*}), name responder ({@code semnet.dns.*}, when on), TUN device
   * ({@code semnet.tun.*}, while running) and the node's own drops and instance count. Thread-safe.
   */
  @Override
  public void reportTo(StatsVisitor visitor) {
    translator.reportTo(visitor);
    tunnel.reportTo(visitor);
    resolver.reportTo(visitor);
    if (nameResponderOn) {
      responder.counters().reportTo(visitor);
    }
    TunDevice t = tun;
    if (t != null) {
      t.reportTo(visitor);
    }
    visitor.value(DROPS, "spoofed", spoofedDrops());
    visitor.value(DROPS, "bypass", bypassDrops());
    visitor.value(INSTANCES, localInstances.all().size());
  }

  @Override
  public String toString() {
    return "WorkerNode{" + nodeId() + (namespace == null ? "" : " in " + namespace) + ", " + state + "}";
  }
}
