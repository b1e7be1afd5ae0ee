package io.semnet.node;

import io.semnet.core.plan.AddressPlan;
import io.semnet.core.trust.RootTrust;
import io.semnet.mdns.SemanticNameResponder;
import io.semnet.proxy.TranslatorBuilder;
import io.semnet.resolver.NodeRegistration;
import io.semnet.resolver.WorkerResolver;
import io.semnet.resolver.transport.ControlTransport;
import io.semnet.tunnel.NodeKeys;
import io.semnet.tunnel.UdpTunnel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Configures a {@link WorkerNode} from what the control plane gave the node: its
 * {@link NodeRegistration} (node id, cluster manager, subnets, endpoint, certificate, location), the
 * address plan, the tunnel key pair the certificate is for, the root's public key and a control
 * transport. Nothing is repeated: the node id, manager, subnets and location come from the
 * registration; the TUN MTU and the translator's tunnel overhead from the tunnel's header and AEAD
 * sizes. {@link #build()} checks the configuration and creates nothing on the system; the node's
 * devices appear in {@link WorkerNode#start()}. Not thread-safe.
 */
public final class WorkerNodeBuilder {
  final NodeRegistration registration;
  AddressPlan plan;
  NodeKeys keys;
  RootTrust rootTrust;
  ControlTransport transport;
  WorkerResolver resolver;
  String namespace;
  InetSocketAddress tunnelBind;
  int underlayMtu = 1500;
  String bridgeName = "snbr";
  String tunName = "sn0";
  boolean plaintext;
  boolean migrationBuffering = true;
  boolean nameResponder = true;
  boolean antiSpoofing = true;
  final List<String> dnsUpstreams = new ArrayList<>();
  final List<Consumer<UdpTunnel.Builder>> tunnelOptions = new ArrayList<>();
  final List<Consumer<TranslatorBuilder>> translatorOptions = new ArrayList<>();
  final List<Consumer<SemanticNameResponder.Builder>> responderOptions = new ArrayList<>();
  final List<Consumer<WorkerResolver.Builder>> resolverOptions = new ArrayList<>();

  WorkerNodeBuilder(NodeRegistration registration) {
    this.registration = Objects.requireNonNull(registration, "registration");
  }

  /** The address plan the root allocates from (its virtual and platform ranges are routed into the TUN). Required. */
  public WorkerNodeBuilder plan(AddressPlan plan) {
    this.plan = Objects.requireNonNull(plan, "plan");
    return this;
  }

  /** The tunnel key pair whose public key the registration certifies. Required unless plaintext. */
  public WorkerNodeBuilder keys(NodeKeys keys) {
    this.keys = Objects.requireNonNull(keys, "keys");
    return this;
  }

  /**
   * The node's identity file: it backs the tunnel's handshake timestamps (the last one issued is
   * written there before it is sent), so a node restarted with its clock stepped back is not
   * refused by its peers as a replay.
   */
  public WorkerNodeBuilder identityFile(io.semnet.resolver.enrol.NodeIdentityFile file) {
    java.util.Objects.requireNonNull(file, "file");
    return tunnelOptions(t -> t.timestampPersistence(new io.semnet.tunnel.TimestampPersistence() {
      @Override
      public byte[] load() {
        return file.handshakeTimestamp();
      }

      @Override
      public void store(byte[] timestamp) {
        try {
          file.saveHandshakeTimestamp(timestamp);
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException("cannot persist the handshake timestamp", e);
        }
      }
    }));
  }

  /** The root's public key: verifies peers' certificates and every record. Required. */
  public WorkerNodeBuilder rootTrust(RootTrust trust) {
    this.rootTrust = Objects.requireNonNull(trust, "trust");
    return this;
  }

  /**
   * The transport to the control plane; the node's worker resolver talks to the manager named by
   * the registration's cluster id. Required unless {@link #resolver(WorkerResolver)} is given.
   */
  public WorkerNodeBuilder controlTransport(ControlTransport transport) {
    this.transport = Objects.requireNonNull(transport, "transport");
    return this;
  }

  /**
   * A worker resolver built elsewhere (e.g. by an in-process control plane) instead of one over
   * {@link #controlTransport}; it must be for this node. The node starts and closes it.
   */
  public WorkerNodeBuilder resolver(WorkerResolver resolver) {
    this.resolver = Objects.requireNonNull(resolver, "resolver");
    return this;
  }

  /**
   * Runs the node inside this named network namespace (it must exist): devices, routes and sysctls
   * are set there and the tunnel's and responder's sockets opened there. Null (the default): the
   * current one.
   */
  public WorkerNodeBuilder namespace(String netns) {
    if (netns != null && (netns.isEmpty() || netns.contains("/") || netns.equals(".") || netns.equals(".."))) {
      throw new IllegalArgumentException("bad network namespace name '" + netns + "'");
    }
    this.namespace = netns;
    return this;
  }

  /**
   * Where the tunnel's socket binds. Default: the wildcard address of the registered endpoint's
   * family on the endpoint's port (behind NAT the advertised endpoint stays the registration's).
   */
  public WorkerNodeBuilder tunnelBind(InetSocketAddress bind) {
    this.tunnelBind = Objects.requireNonNull(bind, "bind");
    return this;
  }

  /**
   * Local anti-spoofing and isolation (default on): each instance's bridge port is isolated
   * ({@code bridge link set dev … isolated on}) and pinned by nftables rules to the instance's MAC
   * and addresses, and nothing is routed from one instance to another's namespace address except
   * through the TUN. Needs the {@code nft} binary; turn it off only where nftables is unavailable.
   */
  public WorkerNodeBuilder antiSpoofing(boolean on) {
    this.antiSpoofing = on;
    return this;
  }

  /** The underlay's MTU (default 1500); the TUN MTU is this minus the tunnel's overhead. */
  public WorkerNodeBuilder underlayMtu(int mtu) {
    if (mtu < 1280) {
      throw new IllegalArgumentException("underlay MTU " + mtu + " is below 1280");
    }
    this.underlayMtu = mtu;
    return this;
  }

  /** The bridge's name (default {@code snbr}; at most 9 characters, veths are named after it). */
  public WorkerNodeBuilder bridgeName(String name) {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty() || name.length() > 9 || !name.matches("[A-Za-z0-9_.-]+")) {
      throw new IllegalArgumentException("bad bridge name '" + name + "' (1-9 of [A-Za-z0-9_.-])");
    }
    this.bridgeName = name;
    return this;
  }

  /** The TUN device's name (default {@code sn0}). */
  public WorkerNodeBuilder tunName(String name) {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty() || name.length() > 15 || !name.matches("[A-Za-z0-9_.-]+")) {
      throw new IllegalArgumentException("bad TUN name '" + name + "'");
    }
    this.tunName = name;
    return this;
  }

  /** Unauthenticated, unencrypted tunnel datagrams (tests and benchmarks only; default false). */
  public WorkerNodeBuilder plaintextTunnel(boolean on) {
    this.plaintext = on;
    return this;
  }

  /** Whether a frozen instance's packets are held for replay at its destination (default true) or dropped and counted. */
  public WorkerNodeBuilder migrationBuffering(boolean on) {
    this.migrationBuffering = on;
    return this;
  }

  /** Whether the node answers DNS and mDNS on its bridge (default true). */
  public WorkerNodeBuilder nameResponder(boolean on) {
    this.nameResponder = on;
    return this;
  }

  /** DNS servers (host or host:port) the responder forwards other names to (default: none, it refuses them). */
  public WorkerNodeBuilder dnsUpstreams(String... servers) {
    this.dnsUpstreams.addAll(Arrays.asList(servers));
    return this;
  }

  /** Further tunnel settings (keepalive, link limits, cipher suite, ...); applied after the derived ones. */
  public WorkerNodeBuilder tunnelOptions(Consumer<UdpTunnel.Builder> options) {
    tunnelOptions.add(Objects.requireNonNull(options));
    return this;
  }

  /** Further translator settings (timeouts, flow limits, ...); applied after the derived ones. */
  public WorkerNodeBuilder translatorOptions(Consumer<TranslatorBuilder> options) {
    translatorOptions.add(Objects.requireNonNull(options));
    return this;
  }

  /** Further name responder settings (TTLs, ports, ...); applied after the derived ones. */
  public WorkerNodeBuilder responderOptions(Consumer<SemanticNameResponder.Builder> options) {
    responderOptions.add(Objects.requireNonNull(options));
    return this;
  }

  /** Further settings of the resolver built over {@link #controlTransport} (timeouts, threads, ...). */
  public WorkerNodeBuilder resolverOptions(Consumer<WorkerResolver.Builder> options) {
    resolverOptions.add(Objects.requireNonNull(options));
    return this;
  }

  /**
   * Checks the configuration and builds the node (not started; nothing created on the system).
   *
   * @throws IllegalStateException naming everything missing or inconsistent
   */
  public WorkerNode build() {
    List<String> problems = new ArrayList<>();
    if (plan == null) {
      problems.add("the address plan is missing (plan(..))");
    }
    if (rootTrust == null) {
      problems.add("the root's public key is missing (rootTrust(..))");
    }
    if (transport == null && resolver == null) {
      problems.add("no control transport (controlTransport(..)) or resolver (resolver(..))");
    }
    if (transport != null && resolver != null) {
      problems.add("give a control transport or a resolver, not both");
    }
    if (resolver != null && !resolver.nodeId().equals(registration.nodeId())) {
      problems.add("the resolver is for node '" + resolver.nodeId() + "', the registration for '" + registration.nodeId() + "'");
    }
    if (!plaintext) {
      if (keys == null) {
        problems.add("the tunnel key pair is missing (keys(..)), or choose plaintextTunnel(true)");
      } else if (!Arrays.equals(keys.publicKey(), registration.endpoint().publicKey())) {
        problems.add("the key pair's public key is not the one registered for " + registration.nodeId());
      }
      if (registration.certificate() == null) {
        problems.add("the registration carries no certificate (the node was registered without a key)");
      }
    }
    if (registration.subnetV4() == null && registration.subnetV6() == null) {
      problems.add("the registration has no subnet");
    }
    if (!problems.isEmpty()) {
      throw new IllegalStateException("node '" + registration.nodeId() + "' cannot be built: " + String.join("; ", problems));
    }
    return new WorkerNode(this);
  }

  InetSocketAddress bindAddress() {
    if (tunnelBind != null) {
      return tunnelBind;
    }
    InetSocketAddress advertised = registration.endpoint().address();
    InetAddress any = advertised.getAddress() instanceof java.net.Inet6Address
        ? io.semnet.core.address.Addresses.parseLiteral("::")
        : io.semnet.core.address.Addresses.parseLiteral("0.0.0.0");
    return new InetSocketAddress(any, advertised.getPort());
  }
}
