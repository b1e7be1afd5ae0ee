package io.semnet.samples.cluster;

import io.semnet.core.address.Addresses;
import io.semnet.core.address.IpPrefix;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.node.SemnetNode;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RootTrust;
import io.semnet.mdns.SemanticNameResponder;
import io.semnet.proxy.SemnetTranslator;
import io.semnet.proxy.tun.NetworkNamespace;
import io.semnet.proxy.tun.NetworkPlumbing;
import io.semnet.proxy.tun.TunDevice;
import io.semnet.resolver.NodeRegistration;
import io.semnet.control.Orchestration;
import io.semnet.resolver.WorkerResolver;
import io.semnet.tunnel.NodeKeys;
import io.semnet.tunnel.UdpTunnel;
import java.net.InetAddress;
import java.util.List;
import java.util.Objects;

/**
 * One complete SemNet worker node living in its own network namespace: the node bridge (gateway =
 * first address of the node's subnets), a TUN device with routes for the ServiceIP/InstanceIP ranges
 * and the platform range, the translator, the authenticated UDP tunnel on the underlay, the worker
 * resolver, and the DNS/mDNS responder on the bridge. The TUN device, tunnel socket and responder
 * sockets are created inside the node's namespace, so several nodes share one JVM.
 *
 * <p>Instances are attached as network namespaces: a veth on the bridge, the next free addresses of
 * the node's subnets, default routes via the bridge, and a resolv.conf pointing at the bridge.
 */
public final class WorkerNode implements AutoCloseable {
  public static final String BRIDGE = "snbr";
  public static final String TUN = "sn0";

  private final String name;
  private final String ns;
  private final NetworkPlumbing plumbing;
  private final NodeRegistration registration;
  private final WorkerResolver resolver;
  private final SemnetTranslator translator;
  private final UdpTunnel tunnel;
  private final TunDevice tun;
  private final SemanticNameResponder responder;
  private final SemnetNode node;
  private int nextHost = 2;
  private int nextVeth = 0;

  /** How a node is started; built by {@link LocalCluster}. */
  record Spec(String name, String namespace, Underlay.Attachment underlay, GeoPoint location, boolean plaintext) {}

  WorkerNode(Spec spec, LocalCluster cluster) throws Exception {
    this.name = spec.name();
    this.ns = spec.namespace();
    this.plumbing = NetworkPlumbing.in(ns);
    NodeKeys keys = NodeKeys.generate();
    WorkerEndpoint endpoint = WorkerEndpoint.of(name, spec.underlay().advertised(), keys.publicKey());
    this.resolver = cluster.controlPlane().addWorker(LocalCluster.CLUSTER, endpoint, spec.location());
    this.registration = cluster.controlPlane().registration(name);
    AddressPlan plan = cluster.plan();

    String gw4 = Addresses.format(registration.subnetV4().addressAt(1));
    String gw6 = Addresses.format(registration.subnetV6().addressAt(1));
    plumbing.enableForwarding();
    plumbing.sysctl("net.ipv4.conf.all.rp_filter", "0");
    plumbing.bridge(BRIDGE, gw4 + "/" + registration.subnetV4().length(), gw6 + "/" + registration.subnetV6().length());

    this.tun = TunDevice.builder().name(TUN).mtu(cluster.tunMtu()).namespace(ns).build();
    plumbing.route(plan.ipv4().virtualRange().toString(), TUN);
    plumbing.route(plan.ipv4().platformRange().toString(), TUN);
    plumbing.route(plan.ipv6().virtualRange().toString(), TUN);
    plumbing.route(plan.ipv6().platformRange().toString(), TUN);

    RootTrust trust = cluster.controlPlane().authority().trust();
    this.tunnel = UdpTunnel.builder()
        .nodeId(name)
        .bind(spec.underlay().bind())
        .advertisedAddress(spec.underlay().advertised())
        .identity(keys, registration.certificate())
        .rootTrust(trust)
        .plaintext(spec.plaintext())
        .keepaliveInterval(java.time.Duration.ofSeconds(1))
        .build();
    this.translator = SemnetTranslator.builder().underlayMtu(LocalCluster.UNDERLAY_MTU)
        .migrationBuffering(cluster.migrationBuffering()).build();
    this.responder = SemanticNameResponder.builder()
        .bridgeInterface(BRIDGE)
        .bridgeAddresses(gw4 + "/" + registration.subnetV4().length(), gw6 + "/" + registration.subnetV6().length())
        .refuseOutOfZone(true)
        .build();
    this.node = SemnetNode.builder(name)
        .location(spec.location())
        .resolver(resolver)
        .tunnel(tunnel)
        .translator(translator)
        .packetIo(tun)
        .nameResponder(responder)
        .build();
    // Sockets (tunnel, DNS) are created by start(): do it inside the node's namespace.
    NetworkNamespace.run(ns, node::start);
  }

  public String name() {
    return name;
  }

  public String namespace() {
    return ns;
  }

  public NodeRegistration registration() {
    return registration;
  }

  public WorkerEndpoint endpoint() {
    return registration.endpoint();
  }

  public SemnetNode node() {
    return node;
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

  public SemanticNameResponder responder() {
    return responder;
  }

  /** The node bridge's IPv4 address: gateway and DNS server of its instances. */
  public String bridgeIpv4() {
    return Addresses.format(registration.subnetV4().addressAt(1));
  }

  /**
   * A network namespace wired to this node's bridge, with addresses from the node's subnets, or
   * addresses it kept from another node routed here as host routes ({@code hostRoutes}).
   */
  public record Attachment(String namespace, InetAddress ipv4, InetAddress ipv6, String hostVeth, boolean hostRoutes) {}

  /** Wires an existing namespace to the bridge and points its resolver at the bridge. */
  public synchronized Attachment wire(String instanceNs) {
    IpPrefix s4 = registration.subnetV4();
    IpPrefix s6 = registration.subnetV6();
    InetAddress a4 = s4.addressAt(nextHost);
    InetAddress a6 = s6.addressAt(nextHost);
    nextHost++;
    String veth = "vi" + (nextVeth++);
    plumbing.vethToNamespace(veth, BRIDGE, instanceNs, "eth0",
        List.of(Addresses.format(a4) + "/" + s4.length(), Addresses.format(a6) + "/" + s6.length()),
        bridgeIpv4(), Addresses.format(s6.addressAt(1)));
    return new Attachment(instanceNs, a4, a6, veth, false);
  }

  /**
   * Wires an existing namespace to the bridge keeping addresses it brought from another node (a
   * stateful restore): the namespace gets them as /32 and /128 with on-link default routes via
   * this bridge, and this node routes them to the bridge as host routes (more specific than its
   * routes of the platform range into the TUN).
   */
  public synchronized Attachment wireKeeping(String instanceNs, InetAddress ipv4, InetAddress ipv6) {
    String veth = "vi" + (nextVeth++);
    plumbing.vethToNamespace(veth, BRIDGE, instanceNs, "eth0",
        List.of(Addresses.format(ipv4) + "/32", Addresses.format(ipv6) + "/128"), null, null);
    Shell.check(instanceNs, "ip", "route", "replace", "default", "via", bridgeIpv4(), "dev", "eth0", "onlink");
    Shell.check(instanceNs, "ip", "-6", "route", "replace", "default", "via",
        Addresses.format(registration.subnetV6().addressAt(1)), "dev", "eth0", "onlink");
    plumbing.route(Addresses.format(ipv4) + "/32", BRIDGE);
    plumbing.route(Addresses.format(ipv6) + "/128", BRIDGE);
    // A restored container announces itself (CRIU restores, then the runtime sends gratuitous ARP):
    // resolve the neighbours both ways now, so the first burst is not queued behind ARP.
    Shell.run(instanceNs, 5, "ping", "-c", "1", "-W", "1", bridgeIpv4());
    return new Attachment(instanceNs, ipv4, ipv6, veth, true);
  }

  /**
   * The {@code restored} phase at this node: the instance runs in wired namespace {@code a}. It is
   * attached locally first (so packets the root's push attracts are delivered at once), then the
   * root is told, which pushes the new locator to every interested node.
   *
   * @param restoredNanos receives {@link System#nanoTime()} just before the root is told (t_up)
   */
  public InstanceRecord restore(Orchestration orchestration, InstanceRecord current, Attachment a, long[] restoredNanos) {
    Locator loc = Locator.of(a.ipv4(), a.ipv6(), endpoint(), 0);
    node.localInstances().attach(current.withLocator(loc));
    restoredNanos[0] = System.nanoTime();
    var record = orchestration.migrate(current.service(), current.ordinal(), loc);
    InstanceRecord placed = Objects.requireNonNull(record.instance(current.ordinal()));
    node.localInstances().attach(placed);
    return placed;
  }

  /** Tells the node that instance {@code ordinal} of {@code service} runs in a wired namespace. */
  public InstanceRecord attach(Orchestration orchestration, ServiceId service, int ordinal, Attachment a, boolean migrating) {
    Locator loc = Locator.of(a.ipv4(), a.ipv6(), endpoint(), 0);
    var record = migrating
        ? orchestration.migrate(service, ordinal, loc)
        : orchestration.placeInstance(service, ordinal, loc);
    InstanceRecord placed = Objects.requireNonNull(record.instance(ordinal));
    node.localInstances().attach(placed);
    return placed;
  }

  /** Forgets a local instance (it died or moved away) and removes its veth (and host routes, if it had any). */
  public void detach(InstanceRecord instance, Attachment a) {
    node.localInstances().detach(instance.key());
    Shell.run(ns, 10, "ip", "link", "del", a.hostVeth());
    if (a.hostRoutes()) {
      plumbing.removeRoute(Addresses.format(a.ipv4()) + "/32", BRIDGE);
      plumbing.removeRoute(Addresses.format(a.ipv6()) + "/128", BRIDGE);
    }
  }

  @Override
  public void close() {
    node.close();
    plumbing.close();
  }
}
