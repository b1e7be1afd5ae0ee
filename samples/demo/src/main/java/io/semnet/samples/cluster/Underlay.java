package io.semnet.samples.cluster;

import io.semnet.proxy.tun.NetworkPlumbing;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The simulated physical network between workers: a bridge in its own namespace, one veth per
 * worker ({@code ul0} inside the worker, 10.250.0.0/24), and NAT routers that hide workers behind
 * one public address (10.250.0.100+) and forward only each worker's tunnel port to it. Delay comes
 * from a user-space {@link ImpairedLink} and loss from iptables' statistic match, because the kernel
 * here has no {@code tc netem}. Everything lives in namespaces this class creates; {@link #close}
 * removes them.
 */
public final class Underlay implements AutoCloseable {
  public static final int TUNNEL_PORT = 51820;
  private static final String SUBNET = "10.250.0.";

  private final String prefix;
  private final String ns;
  private final NetworkPlumbing plumbing;
  private final List<String> natNamespaces = new ArrayList<>();
  private final java.util.Map<String, ImpairedLink> links = new java.util.concurrent.ConcurrentHashMap<>();
  private int nextHost = 10;
  private int nextNat = 100;

  public Underlay(String prefix) {
    this.prefix = prefix;
    this.ns = prefix + "-ul";
    this.plumbing = NetworkPlumbing.here().createNamespace(ns);
    NetworkPlumbing.in(ns).bridge("ulbr");
  }

  /** Where a worker sits on the underlay: the address its tunnel binds and the one peers use. */
  public record Attachment(InetSocketAddress bind, InetSocketAddress advertised) {}

  /** Attaches worker namespace {@code workerNs} directly to the underlay. */
  public Attachment attach(String workerNs, String shortName) {
    String addr = SUBNET + (nextHost++);
    NetworkPlumbing.in(ns).vethToNamespace("u-" + shortName, "ulbr", workerNs, "ul0", List.of(addr + "/24"), null, null);
    InetSocketAddress a = new InetSocketAddress(addr, TUNNEL_PORT);
    return new Attachment(a, a);
  }

  /** A NAT router with its own public underlay address; workers behind it are reachable only on their tunnel ports. */
  public final class NatRouter {
    private final String natNs;
    private final String publicAddress;
    private int nextLan = 0;

    private NatRouter(String natNs, String publicAddress) {
      this.natNs = natNs;
      this.publicAddress = publicAddress;
    }

    public String publicAddress() {
      return publicAddress;
    }

    /** Puts {@code workerNs} behind this router; its tunnel port is forwarded. */
    public Attachment attach(String workerNs, String shortName) {
      int lan = nextLan++;
      int port = TUNNEL_PORT + lan;
      String lanNet = "10.251." + (natNamespaces.indexOf(natNs)) + ".";
      String routerSide = lanNet + (4 * lan + 1);
      String workerSide = lanNet + (4 * lan + 2);
      NetworkPlumbing.in(natNs).vethToNamespace("lan" + lan, null, workerNs, "ul0", List.of(workerSide + "/30"), routerSide, null);
      Shell.check(null, "ip", "-n", natNs, "addr", "add", routerSide + "/30", "dev", "lan" + lan);
      Shell.check(natNs, "iptables", "-t", "nat", "-A", "PREROUTING", "-i", "pub0", "-p", "udp", "--dport", Integer.toString(port),
          "-j", "DNAT", "--to-destination", workerSide + ":" + port);
      return new Attachment(new InetSocketAddress(workerSide, port), new InetSocketAddress(publicAddress, port));
    }
  }

  /**
   * Attaches a worker through a user-space {@link ImpairedLink} so that its link can be delayed and
   * made lossy (this kernel has no netem): a router namespace answers ARP for the worker's address on
   * the underlay (proxy ARP) and routes it into the link; the worker's {@code ul0} is the link's TUN.
   */
  public Attachment attachImpaired(String workerNs, String shortName) throws Exception {
    String addr = SUBNET + (nextHost++);
    String routerNs = prefix + "-r" + shortName;
    plumbing.createNamespace(routerNs);
    String routerAddr = SUBNET + (nextNat++);
    NetworkPlumbing.in(ns).vethToNamespace("u-" + shortName, "ulbr", routerNs, "pub0", List.of(routerAddr + "/24"), null, null);
    NetworkPlumbing router = NetworkPlumbing.in(routerNs);
    router.sysctl("net.ipv4.ip_forward", "1");
    router.sysctl("net.ipv4.conf.all.rp_filter", "0");
    router.sysctl("net.ipv4.conf.pub0.proxy_arp", "1");
    ImpairedLink link = new ImpairedLink(workerNs, "ul0", routerNs, "dl0", shortName);
    links.put(shortName, link);
    Shell.check(null, "ip", "-n", workerNs, "addr", "add", addr + "/24", "dev", "ul0");
    router.route(addr + "/32", "dl0");
    InetSocketAddress a = new InetSocketAddress(addr, TUNNEL_PORT);
    return new Attachment(a, a);
  }

  /** Sets delay, jitter (ms, each direction) and loss (0..1) on a worker attached with {@link #attachImpaired}. */
  public void impair(String shortName, double delayMs, double jitterMs, double loss) {
    ImpairedLink l = links.get(shortName);
    if (l == null) {
      throw new IllegalArgumentException(shortName + " is not attached through an impaired link");
    }
    l.impair(delayMs, jitterMs, loss);
  }

  /** Packets an impaired link has dropped on purpose and carried, in that order. */
  public long[] impairedCounts(String shortName) {
    ImpairedLink l = links.get(shortName);
    if (l == null) {
      throw new IllegalArgumentException(shortName + " is not attached through an impaired link");
    }
    return new long[] {l.dropped(), l.forwarded()};
  }

  /** Drops a share of a directly attached worker's underlay packets in each direction (iptables statistic). */
  public void loss(String workerNs, double probability) {
    for (String[] rule : new String[][] {{"INPUT", "-i"}, {"OUTPUT", "-o"}}) {
      Shell.run(workerNs, 10, "iptables", "-F", rule[0]);
      if (probability > 0) {
        Shell.check(workerNs, "iptables", "-A", rule[0], rule[1], "ul0", "-m", "statistic", "--mode", "random",
            "--probability", Double.toString(probability), "-j", "DROP");
      }
    }
  }

  /** Adds a NAT router to the underlay. */
  public NatRouter natRouter(String shortName) {
    String natNs = prefix + "-" + shortName;
    plumbing.createNamespace(natNs);
    natNamespaces.add(natNs);
    String pub = SUBNET + (nextNat++);
    NetworkPlumbing.in(ns).vethToNamespace("u-" + shortName, "ulbr", natNs, "pub0", List.of(pub + "/24"), null, null);
    NetworkPlumbing.in(natNs).sysctl("net.ipv4.ip_forward", "1");
    Shell.check(natNs, "iptables", "-t", "nat", "-A", "POSTROUTING", "-o", "pub0", "-j", "MASQUERADE");
    return new NatRouter(natNs, pub);
  }

  public String namespace() {
    return ns;
  }

  @Override
  public void close() {
    links.values().forEach(ImpairedLink::close);
    plumbing.close();
  }
}
