package io.semnet.mdns;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.semnet.core.address.Addresses;
import io.semnet.core.address.IpPrefix;
import io.semnet.core.node.NameResponder;
import io.semnet.core.node.NodeContext;
import io.semnet.core.node.RouteResolver;
import io.semnet.core.policy.RoutingPolicyRegistry;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.RouteListener;
import io.semnet.core.service.ServiceId;
import io.semnet.mdns.internal.EngineConfig;
import io.semnet.mdns.internal.LinkFilter;
import io.semnet.mdns.internal.QueryEngine;
import io.semnet.mdns.internal.ResponderCounts;
import io.semnet.mdns.internal.ResponderHandlers;
import io.semnet.mdns.internal.UpstreamForwarder;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.channels.spi.SelectorProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's name responder: answers A and AAAA queries for semantic names
 * ({@code app.appns.service.servicens.<n|any>.<policy|none>.local}) on the node bridge, by mDNS
 * (RFC 6762, 224.0.0.251 and ff02::fb port 5353, bound to the bridge interface) and by plain unicast
 * DNS (UDP and TCP port 53 on the bridge addresses), so that containers with an ordinary stub
 * resolver resolve semantic names too.
 *
 * <p>Guarantees:
 * <ul>
 *   <li>Unicast DNS: valid names answer with the InstanceIP or ServiceIP(s); impossible names, names
 *       with an unknown policy and names the resolver reports not found get NXDOMAIN; the resolver
 *       being unavailable gives SERVFAIL; malformed queries get FORMERR (or are dropped when not
 *       even a header is present); {@code local.} itself has no records at all (never an SOA), and
 *       neither do ancestors of possible names such as {@code prod.any.rr.local} (NOERROR, so RFC
 *       8020 resolvers do not conclude that nothing exists below them; see
 *       {@link io.semnet.core.service.SemanticName#isValidAncestor});
 *       out-of-zone names are relayed to the configured upstreams or REFUSED. Each relayed query
 *       leaves from its own ephemeral port with a fresh {@code SecureRandom} id; only an answer from
 *       the upstream's address and port with that id and the same question is accepted (others are
 *       counted and dropped); truncated answers are fetched again over TCP; at most
 *       {@link Builder#maxForwardedQueries} are relayed at once, the rest get SERVFAIL.</li>
 *   <li>mDNS: answers only names it owns, stays silent otherwise (also for errors); honours the QU
 *       bit; answers legacy unicast queries (source port other than 5353) by unicast with the id and
 *       question repeated, TTL at most 10 s and no cache-flush bit; multicasts a record at most once
 *       a second; sends goodbyes (TTL 0) for multicast records that disappear.</li>
 *   <li>Nothing is amplified: a unicast reply is the query's header and question plus at most two
 *       address records that point back at the question name (at most 44 bytes more than the
 *       question); errors are never larger than the query.</li>
 *   <li>TTLs: records carry {@link Builder#ttl} (default 30 s; legacy unicast at most 10 s). A change
 *       pushed by the resolver applies at once; without a push the responder re-validates a name
 *       with the resolver every {@link Builder#refreshInterval} (default 60 s). A removed service
 *       therefore stops resolving at clients within the TTL of the push (30 s by default), and at
 *       worst within refresh interval + TTL (90 s) if the push is lost. Not-found answers are
 *       remembered for {@link Builder#negativeTtl} (default 5 s), so a newly deployed service
 *       resolves within that time.</li>
 *   <li>A name the node does not know starts one table query through {@link RouteResolver#resolve};
 *       concurrent queries for it share that query; a slow query never delays other queries (all
 *       work is asynchronous on one event loop), and after {@link Builder#resolveTimeout} the waiting
 *       unicast clients get SERVFAIL while the late answer still fills the name store.</li>
 * </ul>
 *
 * <p>Sockets are created in {@link #start} on the calling thread, so they belong to that thread's
 * network namespace. Counters are in {@link #counters()}.
 */
public final class SemanticNameResponder implements NameResponder {
  private static final Logger LOG = LoggerFactory.getLogger(SemanticNameResponder.class);
  /** The IPv4 mDNS group. */
  public static final InetAddress MDNS_V4_GROUP = Addresses.parseLiteral("224.0.0.251");
  /** The IPv6 link-local mDNS group. */
  public static final InetAddress MDNS_V6_GROUP = Addresses.parseLiteral("ff02::fb");

  private final String bridgeInterface;
  private final List<InetAddress> bridgeAddresses;
  private final List<IpPrefix> bridgePrefixes;
  private final List<InetSocketAddress> upstreams;
  private final boolean refuseOutOfZone;
  private final Duration ttl;
  private final Duration negativeTtl;
  private final Duration refreshInterval;
  private final Duration resolveTimeout;
  private final Duration forwardTimeout;
  private final int dnsPort;
  private final int mdnsPort;
  private final boolean unicastEnabled;
  private final boolean mdnsEnabled;
  private final int maxTcpConnections;
  private final int maxForwardedQueries;
  private final RouteResolver resolverOverride;
  private final RoutingPolicyRegistry policiesOverride;
  private final ResponderCounts counters = new ResponderCounts();
  private final ResponderCounters view = new ResponderCounters(counters);
  private final List<Channel> channels = new ArrayList<>();
  private final List<InetSocketAddress> boundAddresses = new ArrayList<>();
  private final AtomicInteger tcpConnections = new AtomicInteger();
  private EventLoopGroup group;
  private EventLoop loop;
  private QueryEngine engine;
  private UpstreamForwarder forwarder;
  private RouteResolver resolver;
  private RouteListener listener;
  private LinkFilter linkFilter;
  private boolean epoll;
  private volatile boolean closed;

  private SemanticNameResponder(Builder b) {
    this.bridgeInterface = b.bridgeInterface;
    this.bridgeAddresses = List.copyOf(b.bridgeAddresses);
    this.bridgePrefixes = List.copyOf(b.bridgePrefixes);
    this.upstreams = List.copyOf(b.upstreams);
    this.refuseOutOfZone = b.refuseOutOfZone;
    this.ttl = b.ttl;
    this.negativeTtl = b.negativeTtl;
    this.refreshInterval = b.refreshInterval;
    this.resolveTimeout = b.resolveTimeout;
    this.forwardTimeout = b.forwardTimeout;
    this.dnsPort = b.dnsPort;
    this.mdnsPort = b.mdnsPort;
    this.unicastEnabled = b.unicast;
    this.mdnsEnabled = b.mdns;
    this.maxTcpConnections = b.maxTcpConnections;
    this.maxForwardedQueries = b.maxForwardedQueries;
    this.resolverOverride = b.resolver;
    this.policiesOverride = b.policies;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Live counters. */
  public ResponderCounters counters() {
    return view;
  }

  /** The unicast DNS addresses actually bound (address and port), after {@link #start}. */
  public List<InetSocketAddress> boundAddresses() {
    return List.copyOf(boundAddresses);
  }

  /** True if the epoll transport is in use (else NIO). */
  public boolean usesEpoll() {
    return epoll;
  }

  @Override
  public synchronized void start(NodeContext context) throws Exception {
    if (group != null) {
      throw new IllegalStateException("already started");
    }
    resolver = resolverOverride != null ? resolverOverride : context == null ? null : context.resolver();
    if (resolver == null) {
      throw new IllegalStateException("a name responder needs a route resolver");
    }
    RoutingPolicyRegistry policies = policiesOverride != null ? policiesOverride
        : context == null ? RoutingPolicyRegistry.getDefaultRegistry() : context.policies();
    Predicate<String> knownPolicy = policies::contains;
    // Look the interface up now, on the caller's thread: it is in the node's network namespace.
    NetworkInterface nif = null;
    if (mdnsEnabled) {
      nif = NetworkInterface.getByName(bridgeInterface);
      if (nif == null) {
        throw new SocketException("bridge interface '" + bridgeInterface + "' not found");
      }
    }
    epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("semnet-dns", true), io);
    loop = group.next();
    linkFilter = new LinkFilter(bridgePrefixes);
    EngineConfig cfg = new EngineConfig(ttl.toSeconds(), negativeTtl.toNanos(), refreshInterval.toNanos(),
        resolveTimeout.toMillis(), 1024, 64, 10_000, 512, 9000, !upstreams.isEmpty() && !refuseOutOfZone,
        refuseOutOfZone);
    if (!upstreams.isEmpty() && !refuseOutOfZone) {
      forwarder = new UpstreamForwarder(upstreams, forwardTimeout.toMillis(), maxForwardedQueries, loop, counters,
          new UpstreamForwarder.Transport() {
            @Override
            public ChannelFactory<? extends Channel> udp(boolean v4) {
              return SemanticNameResponder.this.udp(v4);
            }

            @Override
            public ChannelFactory<? extends Channel> tcp(boolean v4) {
              SocketProtocolFamily f = v4 ? SocketProtocolFamily.INET : SocketProtocolFamily.INET6;
              return epoll ? () -> new EpollSocketChannel(f) : () -> new NioSocketChannel(SelectorProvider.provider(), f);
            }
          });
    }
    engine = new QueryEngine(cfg, resolver, knownPolicy, loop, counters, forwarder);
    try {
      if (unicastEnabled) {
        for (InetAddress a : bridgeAddresses) {
          bindUnicast(a);
        }
      }
      if (mdnsEnabled) {
        bindMdns(nif);
      }
    } catch (Exception e) {
      close();
      throw e;
    }
    listener = new RouteListener() {
      @Override
      public void onRecordUpdated(ServiceRecord previous, ServiceRecord current) {
        loop.execute(() -> engine.onRecordUpdated(current));
      }

      @Override
      public void onServiceRemoved(ServiceId service) {
        loop.execute(() -> engine.onServiceRemoved(service));
      }
    };
    resolver.addListener(listener);
    LOG.info("name responder up on {} (unicast {}, mDNS {} on {}, {} upstream(s), {})", bridgeAddresses,
        unicastEnabled, mdnsEnabled, bridgeInterface, upstreams.size(), epoll ? "epoll" : "nio");
  }

  // ---------------------------------------------------------------- channels

  private ChannelFactory<DatagramChannel> udp(boolean v4) {
    SocketProtocolFamily f = v4 ? SocketProtocolFamily.INET : SocketProtocolFamily.INET6;
    return epoll ? () -> new EpollDatagramChannel(f) : () -> new NioDatagramChannel(f);
  }

  private ChannelFactory<ServerSocketChannel> tcp(boolean v4) {
    SocketProtocolFamily f = v4 ? SocketProtocolFamily.INET : SocketProtocolFamily.INET6;
    return epoll ? () -> new EpollServerSocketChannel(f) : NioServerSocketChannel::new;
  }

  private Channel keep(Channel ch) {
    channels.add(ch);
    return ch;
  }

  private void bindUnicast(InetAddress address) throws InterruptedException {
    // With dnsPort 0 (tests), the TCP socket takes the port the kernel gave the UDP one; another
    // process may hold that port for TCP already, so pick again a few times before giving up.
    for (int attempt = 1; ; attempt++) {
      try {
        bindUnicastOnce(address);
        return;
      } catch (Exception e) { // Netty rethrows the bind's IOException unchecked
        if (dnsPort != 0 || attempt == 8 || !(e instanceof java.io.IOException)) {
          throw e;
        }
      }
    }
  }

  private void bindUnicastOnce(InetAddress address) throws InterruptedException {
    boolean v4 = address instanceof Inet4Address;
    InetSocketAddress at = new InetSocketAddress(address, dnsPort);
    Channel udp = new Bootstrap().group(loop).channelFactory(udp(v4))
        .handler(new ResponderHandlers.UnicastUdp(engine, linkFilter, counters)).bind(at).sync().channel();
    InetSocketAddress bound = (InetSocketAddress) udp.localAddress();
    Channel tcp;
    try {
      tcp = new ServerBootstrap().group(loop).channelFactory(tcp(v4))
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline().addLast(
                  new LengthFieldBasedFrameDecoder(4096, 0, 2, 0, 2),
                  new LengthFieldPrepender(2),
                  new ResponderHandlers.Tcp(engine, linkFilter, counters, tcpConnections, maxTcpConnections));
            }
          })
          .bind(new InetSocketAddress(address, bound.getPort())).sync().channel();
    } catch (Exception e) {
      udp.close().sync();
      throw e;
    }
    keep(udp);
    keep(tcp);
    boundAddresses.add(bound);
  }

  private void bindMdns(NetworkInterface nif) throws InterruptedException, UnknownHostException {
    boolean haveV4 = bridgeAddresses.stream().anyMatch(a -> a instanceof Inet4Address);
    boolean haveV6 = bridgeAddresses.stream().anyMatch(a -> a instanceof Inet6Address);
    if (haveV4) {
      bindMdnsGroup(nif, MDNS_V4_GROUP, true);
    }
    // Queries sent straight to the bridge address on port 5353 (RFC 6762 §5.5); a legacy querier
    // whose socket is connected (dig 9.18 connects) can only hear replies from where it sent.
    for (InetAddress a : bridgeAddresses) {
      bindMdnsDirect(a);
    }
    if (haveV6) {
      // A link-local address is enough for mDNS over IPv6; ff02::fb is scoped to the bridge.
      bindMdnsGroup(nif, Inet6Address.getByAddress(null, MDNS_V6_GROUP.getAddress(), nif.getIndex()), false);
    }
  }

  private void bindMdnsGroup(NetworkInterface nif, InetAddress groupAddress, boolean v4) throws InterruptedException {
    InetSocketAddress groupSocket = new InetSocketAddress(groupAddress, mdnsPort);
    Bootstrap b = new Bootstrap().group(loop).channelFactory(udp(v4))
        .option(ChannelOption.SO_REUSEADDR, true)
        .option(ChannelOption.IP_MULTICAST_TTL, 255)
        .option(ChannelOption.IP_MULTICAST_LOOP_DISABLED, true);
    if (v4) {
      // IPv6 needs no IP_MULTICAST_IF: the group address carries the bridge's scope id. (Java only
      // sees an interface's IPv6 addresses from the process's main namespace, so setting it by
      // NetworkInterface would fail on a thread that entered the node's namespace.)
      b.option(ChannelOption.IP_MULTICAST_IF, nif);
    }
    if (epoll) {
      b.option(EpollChannelOption.SO_REUSEPORT, true);
      if (v4) {
        // Only the groups this socket joined, on the interface it joined them on.
        b.option(EpollChannelOption.IP_MULTICAST_ALL, false);
      }
    }
    ResponderHandlers.Mdns handler = new ResponderHandlers.Mdns(engine, linkFilter, v4, true);
    b.handler(handler);
    // Bound to the group address: receives only what is sent to the group, and the kernel still
    // picks the bridge's own address as the source of what we send.
    DatagramChannel ch = (DatagramChannel) keep(b.bind(groupSocket).sync().channel());
    ch.joinGroup(new InetSocketAddress(groupAddress, 0), nif).sync();
    handler.output = new QueryEngine.MdnsOutput(new ResponderHandlers.UdpSink(ch, counters), new InetSocketAddress(groupAddress, mdnsPort));
    loop.submit(() -> engine.addMulticastOutput(handler.output)).sync();
  }

  private void bindMdnsDirect(InetAddress address) throws InterruptedException {
    boolean v4 = address instanceof Inet4Address;
    ResponderHandlers.Mdns handler = new ResponderHandlers.Mdns(engine, linkFilter, v4, false);
    Channel ch = keep(new Bootstrap().group(loop).channelFactory(udp(v4)).handler(handler)
        .bind(new InetSocketAddress(address, mdnsPort)).sync().channel());
    // Replies to direct queries are unicast from this socket; the group address is never used.
    handler.output = new QueryEngine.MdnsOutput(new ResponderHandlers.UdpSink(ch, counters),
        new InetSocketAddress(v4 ? MDNS_V4_GROUP : MDNS_V6_GROUP, mdnsPort));
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (resolver != null && listener != null) {
      resolver.removeListener(listener);
    }
    for (Channel ch : channels) {
      ch.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    }
    if (loop != null && engine != null) {
      loop.execute(() -> {
        engine.close();
        if (forwarder != null) {
          forwarder.close();
        }
      });
    }
    if (group != null) {
      group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
  }

  /** Assembles a {@link SemanticNameResponder}. */
  public static final class Builder {
    private String bridgeInterface;
    private final List<InetAddress> bridgeAddresses = new ArrayList<>();
    private final List<IpPrefix> bridgePrefixes = new ArrayList<>();
    private final List<InetSocketAddress> upstreams = new ArrayList<>();
    private boolean refuseOutOfZone;
    private Duration ttl = Duration.ofSeconds(30);
    private Duration negativeTtl = Duration.ofSeconds(5);
    private Duration refreshInterval = Duration.ofSeconds(60);
    private Duration resolveTimeout = Duration.ofSeconds(2);
    private Duration forwardTimeout = Duration.ofMillis(1500);
    private int dnsPort = 53;
    private int mdnsPort = 5353;
    private boolean unicast = true;
    private boolean mdns = true;
    private int maxTcpConnections = 64;
    private int maxForwardedQueries = 256;
    private RouteResolver resolver;
    private RoutingPolicyRegistry policies;

    private Builder() {}

    /** The bridge the node's instances hang off; mDNS is bound to it. */
    public Builder bridgeInterface(String name) {
      this.bridgeInterface = Objects.requireNonNull(name, "name");
      return this;
    }

    /**
     * The bridge's own addresses with their prefix length, e.g. {@code "10.18.0.1/26"},
     * {@code "fd00:18::1/64"}: unicast DNS listens on each address; the prefixes define which sources
     * are on the link.
     */
    public Builder bridgeAddresses(String... cidrs) {
      for (String c : cidrs) {
        int slash = c.indexOf('/');
        if (slash < 0) {
          throw new IllegalArgumentException("bridge address '" + c + "' needs a /length");
        }
        bridgeAddresses.add(Addresses.parseLiteral(c.substring(0, slash)));
        bridgePrefixes.add(IpPrefix.parse(c));
      }
      return this;
    }

    /** Upstream resolvers for names outside {@code .local}, tried in order. */
    public Builder upstreams(List<InetSocketAddress> servers) {
      upstreams.addAll(servers);
      return this;
    }

    /** Upstream resolvers as {@code address} or {@code address:port} literals (port 53 by default). */
    public Builder upstreams(String... servers) {
      for (String s : servers) {
        int colon = s.lastIndexOf(':');
        boolean withPort = colon > 0 && (s.indexOf(':') == colon || s.startsWith("["));
        String host = withPort ? s.substring(0, colon).replace("[", "").replace("]", "") : s;
        int port = withPort ? Integer.parseInt(s.substring(colon + 1)) : 53;
        upstreams.add(new InetSocketAddress(Addresses.parseLiteral(host), port));
      }
      return this;
    }

    /** Answer REFUSED for names outside {@code .local} even if upstreams are configured. */
    public Builder refuseOutOfZone(boolean refuse) {
      this.refuseOutOfZone = refuse;
      return this;
    }

    /** TTL of address records (default 30 s); legacy-unicast mDNS uses at most 10 s. */
    public Builder ttl(Duration ttl) {
      this.ttl = positive(ttl, "ttl");
      return this;
    }

    /** How long a not-found answer is remembered (default 5 s). */
    public Builder negativeTtl(Duration d) {
      this.negativeTtl = positive(d, "negativeTtl");
      return this;
    }

    /** How often a name is re-validated with the resolver when no push came (default 60 s). */
    public Builder refreshInterval(Duration d) {
      this.refreshInterval = positive(d, "refreshInterval");
      return this;
    }

    /** How long clients wait for a table query before SERVFAIL (default 2 s). */
    public Builder resolveTimeout(Duration d) {
      this.resolveTimeout = positive(d, "resolveTimeout");
      return this;
    }

    /** How long to wait for each upstream (default 1.5 s). */
    public Builder forwardTimeout(Duration d) {
      this.forwardTimeout = positive(d, "forwardTimeout");
      return this;
    }

    /** Unicast DNS port (default 53; 0 picks a free port, for tests). */
    public Builder dnsPort(int port) {
      this.dnsPort = port;
      return this;
    }

    /** Whether to serve unicast DNS (default true). */
    public Builder unicast(boolean enabled) {
      this.unicast = enabled;
      return this;
    }

    /** Whether to serve mDNS (default true). */
    public Builder mdns(boolean enabled) {
      this.mdns = enabled;
      return this;
    }

    /** Concurrent TCP connections accepted (default 64). */
    public Builder maxTcpConnections(int n) {
      this.maxTcpConnections = n;
      return this;
    }

    /**
     * Out-of-zone queries forwarded at the same time (default 256; each holds one socket while its
     * upstream is asked); beyond that a query is answered SERVFAIL at once.
     */
    public Builder maxForwardedQueries(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("maxForwardedQueries must be at least 1");
      }
      this.maxForwardedQueries = n;
      return this;
    }

    /** Use this resolver instead of the node's (for running the responder on its own). */
    public Builder resolver(RouteResolver resolver) {
      this.resolver = resolver;
      return this;
    }

    /** Use these policies instead of the node's to reject unknown policy names. */
    public Builder policies(RoutingPolicyRegistry policies) {
      this.policies = policies;
      return this;
    }

    public SemanticNameResponder build() {
      if (bridgeAddresses.isEmpty()) {
        throw new IllegalStateException("at least one bridge address is needed");
      }
      if (mdns && bridgeInterface == null) {
        throw new IllegalStateException("mDNS needs the bridge interface name");
      }
      return new SemanticNameResponder(this);
    }

    private static Duration positive(Duration d, String what) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive");
      }
      return d;
    }
  }
}
