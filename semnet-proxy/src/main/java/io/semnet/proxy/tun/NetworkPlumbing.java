package io.semnet.proxy.tun;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Linux plumbing for a SemNet node, done with {@code ip(8)}, {@code bridge(8)} and {@code nft(8)}:
 * network namespaces, the node bridge and its port isolation, veth pairs into instance namespaces
 * with addresses and default routes, routes that send the ServiceIP ranges and remote node subnets
 * into the TUN, nftables tables, and sysctls. Every step is recorded and
 * undone in reverse order by {@link #close()} (best effort, never throwing), so a test or sample
 * leaves nothing behind.
 *
 * <p>Commands act in {@code nodeNamespace} (via {@code ip -n}) when one is given, else in the
 * current namespace. Not thread-safe.
 *
 * <pre>{@code
 * try (NetworkPlumbing net = NetworkPlumbing.in("node1")) {
 *   net.bridge("snbr0", "10.10.0.1/24", "fd10::1/64");
 *   net.vethToNamespace("veth-a", "snbr0", "inst-a", "eth0", List.of("10.10.0.2/24", "fd10::2/64"), "10.10.0.1", "fd10::1");
 *   net.route("172.30.0.0/16", "sn0");
 * }
 * }</pre>
 */
public final class NetworkPlumbing implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NetworkPlumbing.class);

  private static final Pattern ETHER = Pattern.compile("link/ether ([0-9a-fA-F:]{17})");

  private final String ns;
  private final Deque<List<String>> undo = new ArrayDeque<>();
  private boolean closed;

  private NetworkPlumbing(String ns) {
    this.ns = ns;
  }

  /** Plumbing in the current network namespace. */
  public static NetworkPlumbing here() {
    return new NetworkPlumbing(null);
  }

  /** Plumbing inside the named namespace (which must exist, or be created with {@link #createNamespace}). */
  public static NetworkPlumbing in(String nodeNamespace) {
    return new NetworkPlumbing(nodeNamespace);
  }

  /** Creates a named network namespace with loopback up; deleted on close. */
  public NetworkPlumbing createNamespace(String name) {
    run(List.of("ip", "netns", "add", name));
    undo.push(List.of("ip", "netns", "del", name));
    run(List.of("ip", "-n", name, "link", "set", "lo", "up"));
    return this;
  }

  /** Creates a bridge with the given addresses (CIDR) and brings it up; deleted on close. */
  public NetworkPlumbing bridge(String name, String... cidrs) {
    ip("link", "add", name, "type", "bridge");
    undo.push(ipCmd("link", "del", name));
    for (String c : cidrs) {
      addAddress(null, name, c);
    }
    ip("link", "set", name, "up");
    return this;
  }

  /**
   * Creates a veth pair: {@code hostIf} stays here, attached to {@code bridge}; {@code nsIf} moves
   * into namespace {@code instanceNs} with {@code cidrs}, loopback and link up, and default routes
   * via {@code gateway4} / {@code gateway6} (either may be null). Deleted on close.
   */
  public NetworkPlumbing vethToNamespace(String hostIf, String bridge, String instanceNs, String nsIf,
      List<String> cidrs, String gateway4, String gateway6) {
    ip("link", "add", hostIf, "type", "veth", "peer", "name", nsIf);
    undo.push(ipCmd("link", "del", hostIf));
    ip("link", "set", nsIf, "netns", instanceNs);
    if (bridge != null) {
      ip("link", "set", hostIf, "master", bridge);
    }
    ip("link", "set", hostIf, "up");
    for (String c : cidrs) {
      addAddress(instanceNs, nsIf, c);
    }
    run(List.of("ip", "-n", instanceNs, "link", "set", "lo", "up"));
    run(List.of("ip", "-n", instanceNs, "link", "set", nsIf, "up"));
    if (gateway4 != null) {
      run(List.of("ip", "-n", instanceNs, "route", "replace", "default", "via", gateway4, "dev", nsIf));
    }
    if (gateway6 != null) {
      run(List.of("ip", "-n", instanceNs, "-6", "route", "replace", "default", "via", gateway6, "dev", nsIf));
    }
    return this;
  }

  /** Routes {@code prefix} (a ServiceIP range or a remote node subnet) into device {@code dev}; removed on close. */
  public NetworkPlumbing route(String prefix, String dev) {
    ip("route", "replace", prefix, "dev", dev);
    undo.push(ipCmd("route", "del", prefix, "dev", dev));
    return this;
  }

  /** Deletes a link (bridge, veth end, device) now rather than on close. */
  public NetworkPlumbing removeLink(String name) {
    List<String> cmd = ipCmd("link", "del", name);
    undo.remove(cmd);
    run(cmd);
    return this;
  }

  /** Removes a route added with {@link #route} now rather than on close. */
  public NetworkPlumbing removeRoute(String prefix, String dev) {
    List<String> cmd = ipCmd("route", "del", prefix, "dev", dev);
    undo.remove(cmd);
    run(cmd);
    return this;
  }

  /**
   * Sets a sysctl in the node namespace (e.g. {@code net.ipv4.ip_forward=1}); on close it gets back
   * the value it had before (which matters when the node runs in the host's own namespace).
   */
  public NetworkPlumbing sysctl(String key, String value) {
    String before = run(sysctlCmd("-n", key)).trim();
    run(sysctlCmd("-q", "-w", key + "=" + value));
    if (!before.equals(value)) {
      undo.push(sysctlCmd("-q", "-w", key + "=" + before));
    }
    return this;
  }

  private List<String> sysctlCmd(String... args) {
    List<String> cmd = new ArrayList<>();
    if (ns != null) {
      cmd.addAll(List.of("ip", "netns", "exec", ns));
    }
    cmd.add("sysctl");
    cmd.addAll(List.of(args));
    return cmd;
  }

  /**
   * Names the network namespace of process {@code pid} (a container) as {@code name}, so it can be
   * used wherever a namespace name is expected ({@code ip netns attach}); the name (not the
   * namespace, which lives as long as the process) is removed on close or by {@link #removeNamespaceName}.
   */
  public NetworkPlumbing nameNamespaceOf(long pid, String name) {
    if (pid <= 0) {
      throw new IllegalArgumentException("bad pid " + pid);
    }
    run(List.of("ip", "netns", "attach", name, Long.toString(pid)));
    undo.push(List.of("ip", "netns", "del", name));
    return this;
  }

  /** Removes a name given by {@link #nameNamespaceOf} now rather than on close. */
  public NetworkPlumbing removeNamespaceName(String name) {
    List<String> cmd = List.of("ip", "netns", "del", name);
    undo.remove(cmd);
    run(cmd);
    return this;
  }

  /**
   * Gives namespace {@code instanceNs} a default route via {@code gateway} on link {@code nsIf},
   * also when the gateway is outside the interface's subnets (an instance keeping addresses it
   * brought from another node). IPv6 when the gateway is.
   */
  public NetworkPlumbing onLinkDefaultRoute(String instanceNs, String nsIf, String gateway) {
    List<String> cmd = new ArrayList<>(List.of("ip", "-n", instanceNs));
    if (gateway.indexOf(':') >= 0) {
      cmd.add("-6");
    }
    cmd.addAll(List.of("route", "replace", "default", "via", gateway, "dev", nsIf, "onlink"));
    run(cmd);
    return this;
  }

  /**
   * Isolates bridge port {@code port} ({@code bridge link set dev … isolated on}): it exchanges no
   * frame with any other isolated port of its bridge, only with the bridge itself (the node). The
   * setting goes with the port.
   */
  public NetworkPlumbing isolatePort(String port) {
    List<String> cmd = new ArrayList<>(List.of("bridge"));
    if (ns != null) {
      cmd.addAll(List.of("-n", ns));
    }
    cmd.addAll(List.of("link", "set", "dev", port, "isolated", "on"));
    run(cmd);
    return this;
  }

  /** The MAC address of link {@code dev} in namespace {@code instanceNs} (null: the node's), lower case. */
  public String linkAddress(String instanceNs, String dev) {
    List<String> cmd = new ArrayList<>(List.of("ip"));
    String where = instanceNs != null ? instanceNs : ns;
    if (where != null) {
      cmd.addAll(List.of("-n", where));
    }
    cmd.addAll(List.of("-o", "link", "show", "dev", dev));
    Matcher m = ETHER.matcher(run(cmd));
    if (!m.find()) {
      throw new IllegalStateException("link " + dev + " has no Ethernet address");
    }
    return m.group(1).toLowerCase(java.util.Locale.ROOT);
  }

  /**
   * Creates the nftables table {@code family name} with {@code body} (sets, maps, counters,
   * chains: the text between the table's braces) in one transaction; deleted on close.
   */
  public NetworkPlumbing nftTable(String family, String name, String body) {
    nft("table " + family + " " + name + " {\n" + body + "\n}\n");
    undo.push(nftCmd("delete", "table", family, name));
    return this;
  }

  /**
   * Applies an nftables script ({@code nft -f -}) in the node namespace as one transaction: all of
   * it or, on an error, none. Not undone on close (changes inside a table made with
   * {@link #nftTable} go with the table).
   */
  public NetworkPlumbing nft(String script) {
    run(nftCmd("-f", "-"), script);
    return this;
  }

  /** Runs {@code nft args} in the node namespace (a listing, say) and returns what it printed. */
  public String nftQuery(String... args) {
    return run(nftCmd(args));
  }

  private List<String> nftCmd(String... args) {
    List<String> cmd = new ArrayList<>();
    if (ns != null) {
      cmd.addAll(List.of("ip", "netns", "exec", ns));
    }
    cmd.add("nft");
    cmd.addAll(List.of(args));
    return cmd;
  }

  /** Enables IPv4 and IPv6 forwarding, which a node needs to route between its bridge and TUN. */
  public NetworkPlumbing enableForwarding() {
    sysctl("net.ipv4.ip_forward", "1");
    return sysctl("net.ipv6.conf.all.forwarding", "1");
  }

  private void addAddress(String inNs, String dev, String cidr) {
    List<String> cmd = new ArrayList<>(List.of("ip"));
    String where = inNs != null ? inNs : ns;
    if (where != null) {
      cmd.addAll(List.of("-n", where));
    }
    cmd.addAll(List.of("addr", "add", cidr, "dev", dev));
    if (cidr.indexOf(':') >= 0) {
      cmd.add("nodad"); // usable at once; these addresses are assigned, not discovered
    }
    run(cmd);
  }

  private void ip(String... args) {
    run(ipCmd(args));
  }

  private List<String> ipCmd(String... args) {
    List<String> cmd = new ArrayList<>(List.of("ip"));
    if (ns != null) {
      cmd.addAll(List.of("-n", ns));
    }
    cmd.addAll(List.of(args));
    return cmd;
  }

  /** Runs a command; throws with its output when it fails. */
  static String run(List<String> cmd) {
    return run(cmd, null);
  }

  /** Runs a command with {@code stdin} (null: none) as its input; throws with its output when it fails. */
  static String run(List<String> cmd, String stdin) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      try (java.io.OutputStream in = p.getOutputStream()) {
        if (stdin != null) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      }
      String out;
      try (InputStream in = p.getInputStream()) {
        out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("timed out: " + String.join(" ", cmd));
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException("failed (" + p.exitValue() + "): " + String.join(" ", cmd) + ": " + out.trim());
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + String.join(" ", cmd), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted: " + String.join(" ", cmd), e);
    }
  }

  /** Undoes every step, newest first. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    while (!undo.isEmpty()) {
      List<String> cmd = undo.pop();
      try {
        run(cmd);
      } catch (RuntimeException e) {
        log.debug("cleanup step failed (already gone?): {}", e.getMessage());
      }
    }
  }
}
