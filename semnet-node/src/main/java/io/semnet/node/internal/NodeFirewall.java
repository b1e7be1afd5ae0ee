package io.semnet.node.internal;

import io.semnet.core.address.Addresses;
import io.semnet.proxy.tun.NetworkPlumbing;
import java.net.InetAddress;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A node's local anti-spoofing and isolation, in two nftables tables it owns ({@code bridge} and
 * {@code inet} families, both named {@code semnet-<node>}), removed with the node's plumbing:
 *
 * <ul>
 *   <li><b>bridge</b>: every frame entering the bridge from an instance port goes to that port's
 *       chain, which accepts only the instance's own MAC (Ethernet and ARP sender), its own IPv4
 *       address (IP and ARP sender) and its own IPv6 address (plus link-local and the unspecified
 *       address, which neighbour discovery needs), and only IPv4, IPv6 and ARP frames. A port of the
 *       node's bridge without a chain (between its creation and its pinning) passes nothing.
 *   <li><b>inet</b>: a packet routed in from the bridge must come from an attached instance's (or the bridge's own)
 *       address; a packet routed from the bridge back out to the bridge (one instance to another's
 *       namespace IP, or to an address kept by a restored instance, through the node's routing) is
 *       dropped: instances reach each other only through the TUN, where the translator applies the
 *       isolation rules.
 * </ul>
 *
 * <p>Together with port isolation ({@code bridge link set dev … isolated on}, which stops frames
 * between instance ports), an instance can send only with its own addresses and reach another
 * instance only by its InstanceIP or a ServiceIP. Every drop is counted in a named counter.
 *
 * <p>Why the {@code nft} binary with scripts: each change is one atomic transaction in nftables'
 * own language, which reads like the rules it installs; the nf_tables netlink protocol would need
 * an encoder written here for no gain (attaching an instance is not a hot path). Not thread-safe:
 * the node serialises calls.
 */
final class NodeFirewall {
  private static final Pattern PACKETS = Pattern.compile("packets (\\d+)");

  private final NetworkPlumbing plumbing;
  private final String table;
  private final String bridge;

  NodeFirewall(NetworkPlumbing plumbing, String nodeId, String bridge) {
    this.plumbing = plumbing;
    this.table = tableName(nodeId);
    this.bridge = bridge;
  }

  /** {@code semnet-<node id>}, with anything but letters, digits, {@code -} and {@code _} replaced by {@code _}. */
  static String tableName(String nodeId) {
    return "semnet-" + nodeId.replaceAll("[^A-Za-z0-9_-]", "_");
  }

  String table() {
    return table;
  }

  /**
   * Creates both tables (an empty port map; address sets holding only the bridge's own addresses,
   * either may be null, which the node's own multicast may carry back in); they are deleted when
   * the plumbing closes.
   */
  void install(InetAddress bridge4, InetAddress bridge6) {
    plumbing.nftTable("bridge", table, String.join("\n",
        "  counter spoofed {}",
        "  map ports { type ifname : verdict; }",
        "  chain prerouting {",
        "    type filter hook prerouting priority -200; policy accept;",
        "    iifname vmap @ports",
        "    iifname \"" + bridge + "v*\" counter name \"spoofed\" drop",
        "  }"));
    plumbing.nftTable("inet", table, String.join("\n",
        "  counter spoofed {}",
        "  counter bypass {}",
        "  set instances4 { type ipv4_addr; }",
        "  set instances6 { type ipv6_addr; }",
        "  chain prerouting {",
        "    type filter hook prerouting priority -300; policy accept;",
        "    iifname \"" + bridge + "\" ip saddr != @instances4 counter name \"spoofed\" drop",
        "    iifname \"" + bridge + "\" ip6 saddr != @instances6 ip6 saddr != { ::, fe80::/10 } counter name \"spoofed\" drop",
        "  }",
        "  chain forward {",
        "    type filter hook forward priority 0; policy accept;",
        "    iifname \"" + bridge + "\" oifname \"" + bridge + "\" counter name \"bypass\" drop",
        "  }"));
    StringBuilder own = new StringBuilder();
    addresses(own, "add", bridge4, bridge6);
    if (own.length() > 0) {
      plumbing.nft(own.toString());
    }
  }

  /** Pins bridge port {@code port} to the instance's MAC and addresses (either address may be null). */
  void pin(String port, String mac, InetAddress ipv4, InetAddress ipv6) {
    String chain = chain(port);
    String drop = " counter name \"spoofed\" drop\n";
    StringBuilder s = new StringBuilder();
    s.append("add chain bridge ").append(table).append(' ').append(chain).append('\n');
    String rule = "add rule bridge " + table + " " + chain + " ";
    s.append(rule).append("ether saddr != ").append(mac).append(drop);
    s.append(rule).append("ether type != { ip, ip6, arp }").append(drop);
    s.append(rule).append("arp saddr ether != ").append(mac).append(drop);
    if (ipv4 != null) {
      s.append(rule).append("arp saddr ip != ").append(Addresses.format(ipv4)).append(drop);
      s.append(rule).append("ip saddr != ").append(Addresses.format(ipv4)).append(drop);
    } else {
      s.append(rule).append("ether type { ip, arp }").append(drop);
    }
    if (ipv6 != null) {
      s.append(rule).append("ip6 saddr != { ::, fe80::/10, ").append(Addresses.format(ipv6)).append(" }").append(drop);
    } else {
      s.append(rule).append("ip6 saddr != { ::, fe80::/10 }").append(drop);
    }
    s.append(rule).append("accept\n");
    s.append("add element bridge ").append(table).append(" ports { \"").append(port).append("\" : goto ").append(chain).append(" }\n");
    addresses(s, "add", ipv4, ipv6);
    plumbing.nft(s.toString());
  }

  /** Removes what {@link #pin} installed for {@code port} (its frames are dropped again until pinned). */
  void unpin(String port, InetAddress ipv4, InetAddress ipv6) {
    String chain = chain(port);
    StringBuilder s = new StringBuilder();
    s.append("delete element bridge ").append(table).append(" ports { \"").append(port).append("\" }\n");
    s.append("flush chain bridge ").append(table).append(' ').append(chain).append('\n');
    s.append("delete chain bridge ").append(table).append(' ').append(chain).append('\n');
    addresses(s, "delete", ipv4, ipv6);
    plumbing.nft(s.toString());
  }

  private void addresses(StringBuilder s, String verb, InetAddress ipv4, InetAddress ipv6) {
    if (ipv4 != null) {
      s.append(verb).append(" element inet ").append(table).append(" instances4 { ").append(Addresses.format(ipv4)).append(" }\n");
    }
    if (ipv6 != null) {
      s.append(verb).append(" element inet ").append(table).append(" instances6 { ").append(Addresses.format(ipv6)).append(" }\n");
    }
  }

  private static String chain(String port) {
    return "port-" + port;
  }

  /** Packets dropped for a source (MAC or address) an instance does not own, or from an unpinned port. */
  long spoofedDrops() {
    return counter("bridge", "spoofed") + counter("inet", "spoofed");
  }

  /** Packets one instance sent to another's namespace address through the node's routing, dropped. */
  long bypassDrops() {
    return counter("inet", "bypass");
  }

  private long counter(String family, String name) {
    Matcher m = PACKETS.matcher(plumbing.nftQuery("list", "counter", family, table, name));
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }
}
