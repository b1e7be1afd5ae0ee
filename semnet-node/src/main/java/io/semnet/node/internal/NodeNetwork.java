package io.semnet.node.internal;

import io.semnet.core.address.Addresses;
import io.semnet.core.address.IpPrefix;
import io.semnet.core.plan.AddressPlan;
import io.semnet.proxy.tun.NetworkPlumbing;
import io.semnet.proxy.tun.TunDevice;
import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A worker node's Linux set-up, derived once from its subnets and the address plan: forwarding and
 * rp_filter sysctls, the bridge (gateway = first address of each node subnet), the TUN device and
 * the routes of the plan's virtual and platform ranges into it, the anti-spoofing tables
 * ({@link NodeFirewall}); then veth pairs into instance namespaces, each port isolated and pinned
 * to its instance's MAC and addresses. Every step goes through one {@link NetworkPlumbing}, so {@link #close} undoes all of
 * it newest first (sysctls get their earlier values back), also after a set-up that failed midway.
 * Not thread-safe: the node serialises calls.
 */
public final class NodeNetwork implements AutoCloseable {
  private final String ns;
  private final IpPrefix subnetV4;
  private final IpPrefix subnetV6;
  private final String bridge;
  private final String tunName;
  private final int tunMtu;
  private final List<String> tunRoutes;
  private final NetworkPlumbing plumbing;
  private final NodeFirewall firewall;
  private long nextHost = 2;
  private int nextVeth;

  /** One instance wired to the bridge. */
  public record Wired(String namespace, InetAddress ipv4, InetAddress ipv6, String hostVeth, boolean named) {}

  /**
   * @param ns the node's network namespace, or null for the current one
   * @param subnetV4 the node's IPv4 subnet, or null
   * @param subnetV6 the node's IPv6 subnet, or null
   * @param antiSpoofing whether instances' bridge ports are isolated and pinned to their MAC and
   *     addresses (nftables tables {@code semnet-<nodeId>}, see {@link NodeFirewall})
   */
  public NodeNetwork(String ns, String nodeId, IpPrefix subnetV4, IpPrefix subnetV6, AddressPlan plan, String bridge,
      String tunName, int tunMtu, boolean antiSpoofing) {
    if (subnetV4 == null && subnetV6 == null) {
      throw new IllegalArgumentException("the registration has no subnet");
    }
    this.ns = ns;
    this.subnetV4 = subnetV4;
    this.subnetV6 = subnetV6;
    this.bridge = bridge;
    this.tunName = tunName;
    this.tunMtu = tunMtu;
    this.tunRoutes = routes(plan, subnetV4 != null, subnetV6 != null);
    this.plumbing = ns == null ? NetworkPlumbing.here() : NetworkPlumbing.in(ns);
    this.firewall = antiSpoofing ? new NodeFirewall(plumbing, nodeId, bridge) : null;
  }

  private static List<String> routes(AddressPlan plan, boolean v4, boolean v6) {
    List<String> r = new ArrayList<>();
    if (v4 && plan.ipv4() != null) {
      r.add(plan.ipv4().virtualRange().toString());
      r.add(plan.ipv4().platformRange().toString());
    }
    if (v6 && plan.ipv6() != null) {
      r.add(plan.ipv6().virtualRange().toString());
      r.add(plan.ipv6().platformRange().toString());
    }
    return List.copyOf(r);
  }

  /** The prefixes routed into the TUN device. */
  public List<String> tunRoutes() {
    return tunRoutes;
  }

  public InetAddress gatewayIpv4() {
    return subnetV4 == null ? null : subnetV4.addressAt(1);
  }

  public InetAddress gatewayIpv6() {
    return subnetV6 == null ? null : subnetV6.addressAt(1);
  }

  /** The bridge's addresses as CIDRs (what the name responder binds to). */
  public String[] bridgeCidrs() {
    List<String> c = new ArrayList<>();
    if (subnetV4 != null) {
      c.add(Addresses.format(gatewayIpv4()) + "/" + subnetV4.length());
    }
    if (subnetV6 != null) {
      c.add(Addresses.format(gatewayIpv6()) + "/" + subnetV6.length());
    }
    return c.toArray(new String[0]);
  }

  /** Sysctls, bridge, TUN device and its routes. On failure the caller closes this to undo what was done. */
  public TunDevice setUp() throws IOException {
    plumbing.enableForwarding();
    plumbing.sysctl("net.ipv4.conf.all.rp_filter", "0");
    plumbing.bridge(bridge, bridgeCidrs());
    if (firewall != null) {
      firewall.install(gatewayIpv4(), gatewayIpv6());
    }
    TunDevice tun = TunDevice.builder().name(tunName).mtu(tunMtu).namespace(ns).build();
    try {
      for (String r : tunRoutes) {
        plumbing.route(r, tunName);
      }
    } catch (RuntimeException e) {
      tun.close();
      throw e;
    }
    return tun;
  }

  /** Wires a namespace to the bridge with the next free addresses of the node's subnets and default routes via the bridge. */
  public Wired wire(String instanceNs, boolean named, String ifName) {
    long host = nextHost;
    InetAddress a4 = subnetV4 == null ? null : inSubnet(subnetV4, host);
    InetAddress a6 = subnetV6 == null ? null : inSubnet(subnetV6, host);
    String veth = nextVeth();
    List<String> cidrs = new ArrayList<>();
    if (a4 != null) {
      cidrs.add(Addresses.format(a4) + "/" + subnetV4.length());
    }
    if (a6 != null) {
      cidrs.add(Addresses.format(a6) + "/" + subnetV6.length());
    }
    Wired w = new Wired(instanceNs, a4, a6, veth, named);
    try {
      plumbing.vethToNamespace(veth, bridge, instanceNs, ifName, cidrs,
          a4 == null ? null : Addresses.format(gatewayIpv4()), a6 == null ? null : Addresses.format(gatewayIpv6()));
      secure(w, ifName);
    } catch (RuntimeException e) {
      unsecure(w);
      quietly(() -> plumbing.removeLink(veth));
      throw e;
    }
    nextHost = host + 1;
    return w;
  }

  private static InetAddress inSubnet(IpPrefix subnet, long host) {
    if (host >= subnet.size() - 1) {
      throw new IllegalStateException("subnet " + subnet + " has no free address left");
    }
    return subnet.addressAt(host);
  }

  /**
   * Wires a namespace keeping addresses it brought from another node: /32 and /128 in the
   * namespace with on-link default routes via this bridge, and host routes to them on this node
   * (more specific than the platform range's route into the TUN).
   */
  public Wired wireKeeping(String instanceNs, boolean named, String ifName, InetAddress ipv4, InetAddress ipv6) {
    String veth = nextVeth();
    List<String> cidrs = new ArrayList<>();
    if (ipv4 != null) {
      cidrs.add(Addresses.format(ipv4) + "/32");
    }
    if (ipv6 != null) {
      cidrs.add(Addresses.format(ipv6) + "/128");
    }
    Wired w = new Wired(instanceNs, ipv4, ipv6, veth, named);
    try {
      plumbing.vethToNamespace(veth, bridge, instanceNs, ifName, cidrs, null, null);
      secure(w, ifName);
      if (ipv4 != null && subnetV4 != null) {
        plumbing.onLinkDefaultRoute(instanceNs, ifName, Addresses.format(gatewayIpv4()));
        plumbing.route(Addresses.format(ipv4) + "/32", bridge);
      }
      if (ipv6 != null && subnetV6 != null) {
        plumbing.onLinkDefaultRoute(instanceNs, ifName, Addresses.format(gatewayIpv6()));
        plumbing.route(Addresses.format(ipv6) + "/128", bridge);
      }
    } catch (RuntimeException e) {
      unwire(w, true);
      throw e;
    }
    if (ipv4 != null && subnetV4 != null) {
      // A restored container announces itself (the runtime sends gratuitous ARP): resolve the
      // neighbours both ways now, so the first burst is not queued behind ARP.
      warmNeighbours(instanceNs, Addresses.format(gatewayIpv4()));
    }
    return w;
  }

  /** Isolates the instance's bridge port and pins it to the instance's MAC and addresses. */
  private void secure(Wired w, String ifName) {
    if (firewall != null) {
      firewall.pin(w.hostVeth(), plumbing.linkAddress(w.namespace(), ifName), w.ipv4(), w.ipv6());
      plumbing.isolatePort(w.hostVeth());
    }
  }

  private void unsecure(Wired w) {
    if (firewall != null) {
      quietly(() -> firewall.unpin(w.hostVeth(), w.ipv4(), w.ipv6()));
    }
  }

  /**
   * Removes an instance's port pinning, its veth, its host routes if it kept its addresses, and the
   * name given to a PID's namespace.
   */
  public void unwire(Wired w, boolean keptAddresses) {
    unsecure(w);
    try {
      plumbing.removeLink(w.hostVeth());
    } catch (RuntimeException e) {
      // gone with its namespace (the instance's namespace was destroyed)
    }
    if (keptAddresses) {
      if (w.ipv4() != null) {
        quietly(() -> plumbing.removeRoute(Addresses.format(w.ipv4()) + "/32", bridge));
      }
      if (w.ipv6() != null) {
        quietly(() -> plumbing.removeRoute(Addresses.format(w.ipv6()) + "/128", bridge));
      }
    }
    if (!w.named()) {
      quietly(() -> plumbing.removeNamespaceName(w.namespace()));
    }
  }

  /** Names the network namespace of {@code pid} so the steps above can address it; removed by {@link #unwire} or close. */
  public String nameNamespaceOf(long pid) {
    String name = bridge + "-pid" + pid;
    plumbing.nameNamespaceOf(pid, name);
    return name;
  }

  /** Removes a name given by {@link #nameNamespaceOf} (when wiring failed). */
  public void forgetName(String name) {
    quietly(() -> plumbing.removeNamespaceName(name));
  }

  private String nextVeth() {
    return bridge + "v" + (nextVeth++);
  }

  private static void quietly(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException ignored) {
      // best effort: already gone
    }
  }

  private static void warmNeighbours(String instanceNs, String gateway) {
    try {
      Process p = new ProcessBuilder("ip", "netns", "exec", instanceNs, "ping", "-c", "1", "-W", "1", gateway)
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(5, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    } catch (IOException e) {
      // no ping: the first packets wait for ARP instead
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The nftables tables of the node's anti-spoofing ({@code bridge} and {@code inet} families), or null when off. */
  public String firewallTable() {
    return firewall == null ? null : firewall.table();
  }

  /** Packets dropped for a source an instance does not own (0 when anti-spoofing is off). */
  public long spoofedDrops() {
    return firewall == null ? 0 : firewall.spoofedDrops();
  }

  /** Packets from one instance to another's namespace address through the node's routing, dropped (0 when off). */
  public long bypassDrops() {
    return firewall == null ? 0 : firewall.bypassDrops();
  }

  /** Undoes every step, newest first (best effort, never throws). */
  @Override
  public void close() {
    plumbing.close();
  }
}
