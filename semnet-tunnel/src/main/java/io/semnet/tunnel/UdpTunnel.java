package io.semnet.tunnel;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.node.BusyPoll;
import io.semnet.core.node.NodeContext;
import io.semnet.core.node.Tunnel;
import io.semnet.core.node.TunnelReceiver;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.stats.StatsSource;
import io.semnet.core.stats.StatsVisitor;
import io.semnet.core.trust.NodeCertificate;
import io.semnet.core.trust.RevokedCertificate;
import io.semnet.core.trust.RootTrust;
import io.semnet.tunnel.internal.Datagram;
import io.semnet.tunnel.internal.conn.SocketConfig;
import io.semnet.tunnel.internal.device.Device;
import io.semnet.tunnel.internal.device.Timers;
import io.semnet.tunnel.internal.handshake.Handshake;
import io.semnet.tunnel.internal.handshake.Revocations;
import io.semnet.tunnel.internal.link.Drops;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SemNet overlay: one UDP socket per node (Netty epoll, IPv4 or IPv6), a link per peer node as
 * state on that socket, every datagram sealed with an AEAD under per-session keys from a Noise IK
 * handshake whose encrypted first message carries the sender's root-signed {@link NodeCertificate};
 * datagrams find their session by receiver index, never by source address.
 * The datagram format, key design and threat model are in the module README.
 *
 * <p>Guarantees: {@link #send} never blocks (what cannot go out is dropped and counted by
 * {@link DropReason}); a datagram that fails to parse, authenticate or pass the replay check is
 * dropped silently and counted, and creates no state; at most {@code maxLinks} links exist (the
 * least recently used is closed for a new one); links idle longer than {@code idleTimeout} are
 * closed; keepalive probes measure RTT into the node's {@link LocalNodeView} and mark unanswering
 * peers down; every session key is refused 180 s after its handshake (rekeyed before that); a
 * revoked node ({@link #revoke}) loses its link at once. Receiver callbacks run on the tunnel's
 * event loop thread, batch by batch.
 *
 * <p>This class is a façade over the parts in {@code io.semnet.tunnel.internal.*}: the batched
 * socket ({@code conn}), the link table ({@code link}), the handshake ({@code handshake}) and the
 * send path, receive dispatch and timers ({@code device}, wired together as a started {@code Device}); see the module README.
 */
public final class UdpTunnel implements Tunnel, StatsSource {
  private static final Logger log = LoggerFactory.getLogger(UdpTunnel.class);
  private static final TunnelReceiver NO_RECEIVER = new TunnelReceiver() {
    @Override
    public void onData(WorkerEndpoint from, ByteBuffer packet) {}

    @Override
    public void onRouteNotFound(WorkerEndpoint from, InetAddress namespaceIp) {}
  };

  private final String nodeId;
  private final InetSocketAddress advertisedAddress;
  private final NodeKeys keys;
  private final boolean plaintext;
  private final int maxInnerBytes;
  private final Device.Config config;
  private final Drops drops = new Drops();
  /** Kept across restarts of the device: revocations are the node's, not the socket's. */
  private final Revocations revocations = new Revocations();
  private volatile boolean running;
  private volatile boolean closed;
  private volatile Device device;
  private WorkerEndpoint local;

  private UdpTunnel(Builder b) {
    this.nodeId = b.nodeId;
    this.advertisedAddress = b.advertised;
    this.keys = b.keys;
    this.plaintext = b.plaintext;
    this.maxInnerBytes = b.maxDatagramBytes - Datagram.size(0, plaintext);
    long rejectAfterNanos = b.rejectAfter.toNanos();
    this.config = new Device.Config(b.nodeId,
        new SocketConfig(b.nodeId, b.bind, b.receiveBufferBytes, b.sendBufferBytes, b.batching, b.udpGro, b.udpGso, b.maxDatagramBytes,
            b.busyPoll),
        b.maxLinks, b.plaintext, b.suite, b.waitingPerLink, b.maxDatagramBytes, rejectAfterNanos,
        new Handshake.Settings(b.nodeId, b.keys == null ? null : b.keys.privateKeyBytes(), b.certificate, b.rootTrust,
            b.suite, b.plaintext, b.firstContactsPerSecond, b.perSourcePerSecond, b.perSourceBurst, b.perKeyPerSecond, b.underLoadPerSecond,
            b.clock, b.timestamps != null ? b.timestamps : TimestampPersistence.inMemory()),
        new Timers.Settings(b.idleTimeout.toNanos(), b.keepaliveInterval.toNanos(), b.handshakeRetry.toNanos(),
            b.rekeyAfter.toNanos(), b.keyGrace.toNanos(), b.probesBeforeDown, rejectAfterNanos));
  }

  /** A builder; nodeId, bind and (unless plaintext) identity and rootTrust are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Creates and binds the socket on the calling thread (so it lands in the calling thread's network
   * namespace) and starts the tunnel's event loop, whose thread inherits that namespace too.
   */
  @Override
  public synchronized void start(NodeContext context) throws Exception {
    if (running || closed) {
      throw new IllegalStateException("tunnel " + nodeId + " can be started once");
    }
    Objects.requireNonNull(context, "context");
    TunnelReceiver receiver = context.tunnelReceiver() != null ? context.tunnelReceiver() : NO_RECEIVER;
    Device d = new Device(config, drops, revocations, receiver, context.view(), t -> context.fail(this, t));
    device = d;
    try {
      d.start();
    } catch (Exception e) {
      close();
      throw e;
    }
    InetSocketAddress bound = d.socket().localAddress();
    local = WorkerEndpoint.of(nodeId, advertisedAddress != null ? advertisedAddress : bound,
        plaintext ? new byte[0] : keys.publicKeyRef());
    running = true;
    log.debug("tunnel {} bound to {} ({})", nodeId, bound, d.socket().bufferSizes());
  }

  @Override
  public WorkerEndpoint localEndpoint() {
    WorkerEndpoint l = local;
    if (l == null) {
      throw new IllegalStateException("tunnel " + nodeId + " is not started");
    }
    return l;
  }

  /** The address the socket is bound to (useful with port 0). */
  public InetSocketAddress boundAddress() {
    Device d = device;
    return d == null ? null : d.socket().localAddress();
  }

  @Override
  public int overheadBytes(boolean ipv6Underlay) {
    return (ipv6Underlay ? 40 : 20) + 8 + Datagram.size(0, plaintext);
  }

  /** The largest inner packet {@link #send} carries. */
  public int maxPacketBytes() {
    return maxInnerBytes;
  }

  @Override
  public void send(WorkerEndpoint peer, ByteBuffer packet) {
    if (!running) {
      drops.drop(DropReason.CLOSED);
      return;
    }
    if (packet.remaining() > maxInnerBytes) {
      drops.drop(DropReason.TOO_LARGE);
      return;
    }
    if (peer.nodeId().equals(nodeId)) {
      // Local delivery is the translator's job; a link to ourselves could never authenticate.
      drops.drop(DropReason.SEND_FAILED);
      return;
    }
    device.send(peer, packet);
  }

  @Override
  public boolean isReady(WorkerEndpoint peer) {
    return running && !peer.nodeId().equals(nodeId) && device.isReady(peer);
  }

  @Override
  public void sendRouteNotFound(WorkerEndpoint peer, InetAddress namespaceIp) {
    if (!running) {
      drops.drop(DropReason.CLOSED);
      return;
    }
    device.sendRouteNotFound(peer, namespaceIp);
  }

  /**
   * Pushes out what the calling thread sent. A lone datagram flushed off the event loop goes to
   * the socket from the calling thread when nothing sent earlier is pending (see README, I/O).
   */
  @Override
  public void flush() {
    if (running) {
      device.flush();
    }
  }

  /** A snapshot of the counters; reads the kernel's receive-buffer drops for this socket. */
  public TunnelStats stats() {
    Device d = device;
    return TunnelStats.of(drops, d == null ? null : d.links(), d == null ? null : d.socket());
  }

  /** Reports {@link #stats()}: {@code semnet.tunnel.*} and, per peer, {@code semnet.peer.*} (see {@link TunnelStats}). */
  @Override
  public void reportTo(StatsVisitor visitor) {
    stats().reportTo(visitor);
  }

  /** Datagrams the kernel dropped for want of receive-buffer space, or -1 if unknown. */
  public long receiveBufferDrops() {
    Device d = device;
    return d == null ? -1 : d.socket().receiveBufferDrops();
  }

  /**
   * Presents {@code renewed} (this node's renewed certificate, e.g. after the registration was
   * renewed) in every handshake this node initiates from now on; live sessions stay. Thread-safe.
   *
   * @throws IllegalArgumentException if it is not for this node's id and public key, or does not
   *     verify under the configured root now
   * @throws IllegalStateException if the tunnel is plaintext or not started
   */
  public synchronized void updateCertificate(NodeCertificate renewed) {
    Objects.requireNonNull(renewed, "renewed");
    Device d = device;
    if (d == null) {
      throw new IllegalStateException("the tunnel is not started");
    }
    d.handshake().certificate(renewed);
  }

  /** Forces a new handshake (new key id and session keys) with an established peer; for key rotation on demand. */
  public void rekey(String peerNodeId) {
    if (running) {
      device.rekey(peerNodeId);
    }
  }

  /** Replaces the revoked node ids: their links close at once, their initiations are refused ({@link DropReason#REVOKED}). Thread-safe. */
  public void revoke(Set<String> nodeIds) {
    revocations.nodeIds(nodeIds);
    closeRevokedLinks();
  }

  /**
   * Replaces the revoked certificates (the root's revocation list, by serial): links they cover
   * ({@code Revocations}: the peer proved one, or this node opened the link to one's node id and
   * key) close at once; such initiations and handshakes are refused ({@link DropReason#REVOKED}). Thread-safe.
   */
  public void revokeCertificates(Collection<RevokedCertificate> list) {
    revocations.certificates(list);
    closeRevokedLinks();
  }

  private void closeRevokedLinks() {
    if (running) {
      device.closeRevokedLinks();
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      running = false;
    }
    Device d = device;
    if (d != null) {
      d.close();
    }
  }

  /** Ed25519 certificate verifications run so far (tests). */
  long certificateVerifications() {
    Device d = device;
    return d == null ? 0 : d.handshake().verifications();
  }

  /** Runs {@code r} on the tunnel's event loop and waits (tests drive the decoder this way); rethrows what it throws. */
  void runOnLoop(Runnable r) throws Exception {
    try {
      device.socket().eventLoop().submit(r).get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException) {
        throw (RuntimeException) e.getCause();
      }
      throw e;
    }
  }

  /** Handles one received datagram (position to limit), as if read from the socket. Package-private for the fuzz test. */
  void onDatagram(ByteBuffer d, InetSocketAddress from) {
    device.onDatagram(d, from);
  }

  /** Assembles a {@link UdpTunnel}; every setting but the required ones has a working default. */
  public static final class Builder {
    private String nodeId;
    private InetSocketAddress bind;
    private InetSocketAddress advertised;
    private NodeKeys keys;
    private NodeCertificate certificate;
    private RootTrust rootTrust;
    private int maxLinks = 1024;
    private Duration idleTimeout = Duration.ofMinutes(5);
    private Duration keepaliveInterval = Duration.ofSeconds(5);
    private Duration handshakeRetry = Duration.ofSeconds(1);
    private Duration rekeyAfter = Duration.ofMinutes(2);
    private Duration keyGrace = Duration.ofSeconds(10);
    private Duration rejectAfter = Duration.ofSeconds(180);
    private Clock clock = Clock.systemUTC();
    private TimestampPersistence timestamps;
    private int perSourcePerSecond = 50;
    private int perSourceBurst = 20;
    private int perKeyPerSecond = 10;
    private int underLoadPerSecond = 200;
    private int probesBeforeDown = 2;
    private boolean plaintext;
    private int receiveBufferBytes = 8 << 20;
    private int sendBufferBytes = 8 << 20;
    private boolean batching = true;
    private boolean udpGro = true;
    private boolean udpGso = true;
    private BusyPoll busyPoll = BusyPoll.fromSystemProperty();
    private CipherSuite suite = CipherSuite.AES_256_GCM;
    private int maxDatagramBytes = 2048;
    private int waitingPerLink = 64;
    private double firstContactsPerSecond = 100;

    private Builder() {}

    public Builder nodeId(String id) {
      this.nodeId = id;
      return this;
    }

    /** Local address and port of the tunnel socket (IPv6 wildcard gives a dual-stack socket; port 0 picks one). */
    public Builder bind(InetSocketAddress address) {
      this.bind = address;
      return this;
    }

    /** The public address peers reach this node at (behind NAT: the forwarded public IP and port); defaults to the bound address. */
    public Builder advertisedAddress(InetSocketAddress address) {
      this.advertised = address;
      return this;
    }

    /** This node's key pair and the root's certificate for its public key (required unless plaintext). */
    public Builder identity(NodeKeys keys, NodeCertificate certificate) {
      this.keys = keys;
      this.certificate = certificate;
      return this;
    }

    /** The root key that first contacts' certificates must be signed by (required unless plaintext). */
    public Builder rootTrust(RootTrust trust) {
      this.rootTrust = trust;
      return this;
    }

    /** At most this many links (peers) at once; the least recently used is closed for a new one. */
    public Builder maxLinks(int k) {
      this.maxLinks = k;
      return this;
    }

    /** Links without data traffic for this long are closed. */
    public Builder idleTimeout(Duration d) {
      this.idleTimeout = d;
      return this;
    }

    /**
     * Probe period on established links (keeps NAT mappings open, measures RTT; default 5 s). Data
     * unanswered for 1 s, or an overdue echo, sends a probe at once whatever this is.
     */
    public Builder keepaliveInterval(Duration d) {
      this.keepaliveInterval = d;
      return this;
    }

    /** First-contact retransmission period. */
    public Builder handshakeRetry(Duration d) {
      this.handshakeRetry = d;
      return this;
    }

    /**
     * Unanswered probes (or first contacts) before a peer is marked down (default 2: with data
     * outstanding, a dead peer is down about 3 s after it last answered).
     */
    public Builder probesBeforeDown(int n) {
      this.probesBeforeDown = n;
      return this;
    }

    /** Session age after which the initiator runs a new handshake (new key id). */
    public Builder rekeyAfter(Duration d) {
      this.rekeyAfter = d;
      return this;
    }

    /** How long the previous session's key is still accepted after a rekey (in-flight datagrams). */
    public Builder keyGrace(Duration d) {
      this.keyGrace = d;
      return this;
    }

    /** Sessions are refused this long after their handshake (WireGuard's Reject-After-Time, 180 s); for tests. */
    Builder rejectAfter(Duration d) {
      this.rejectAfter = d;
      return this;
    }

    /** The wall clock handshake timestamps come from; for tests (clock steps). */
    Builder clock(Clock c) {
      this.clock = c;
      return this;
    }

    /** Keeps this node's last handshake timestamp durably (e.g. the identity file): restarts with the clock stepped back still work. */
    public Builder timestampPersistence(TimestampPersistence p) {
      this.timestamps = p;
      return this;
    }

    /**
     * Initiations per second and burst per source IP or IPv6 /64 (default 50, 20: sized for nodes
     * sharing a NAT), per initiator key after authentication (10), and the rate above which mac2,
     * a cookie round trip, is demanded (200).
     */
    public Builder handshakeLimits(int perSource, int burst, int perKey, int underLoad) {
      this.perSourcePerSecond = perSource;
      this.perSourceBurst = burst;
      this.perKeyPerSecond = perKey;
      this.underLoadPerSecond = underLoad;
      return this;
    }

    /** Ed25519 certificate verifications per second (uncached certificates); over it initiations are dropped as {@link DropReason#VERIFY_LIMITED}. */
    public Builder firstContactsPerSecond(double rate) {
      this.firstContactsPerSecond = rate;
      return this;
    }

    /** No encryption or authentication: for trusted LANs and benchmarks only. Off by default. */
    public Builder plaintext(boolean on) {
      this.plaintext = on;
      return this;
    }

    /** SO_RCVBUF and SO_SNDBUF requests (the kernel caps them at net.core.rmem_max/wmem_max). */
    public Builder socketBuffers(int receiveBytes, int sendBytes) {
      this.receiveBufferBytes = receiveBytes;
      this.sendBufferBytes = sendBytes;
      return this;
    }

    /** recvmmsg and batched sendmmsg (flush per batch); on by default. */
    public Builder batching(boolean on) {
      this.batching = on;
      return this;
    }

    /**
     * Send each batch's consecutive datagrams to one peer as one UDP GSO super-datagram
     * ({@code UDP_SEGMENT}); on by default where the kernel supports it, and only with batching.
     */
    public Builder udpGso(boolean on) {
      this.udpGso = on;
      return this;
    }

    /**
     * How long the tunnel's event loop keeps polling without blocking after it last had work
     * ({@link BusyPoll}; default {@code -Dsemnet.busyPollMicros}, else off).
     */
    public Builder busyPoll(Duration window) {
      this.busyPoll = BusyPoll.of(window);
      return this;
    }

    /**
     * UDP GRO on the socket (default on): runs a GSO peer sent arrive as one read (the kernel
     * keeps them together, Netty splits them), at the price of one datagram per {@code recvmsg}
     * instead of {@code recvmmsg} batches when nothing is coalesced. Switch it off for workloads of
     * many small flows from many peers.
     */
    public Builder udpGro(boolean on) {
      this.udpGro = on;
      return this;
    }

    public Builder cipherSuite(CipherSuite s) {
      this.suite = s;
      return this;
    }

    /** Largest datagram on the underlay (inner packet + 32 bytes). */
    public Builder maxDatagramBytes(int n) {
      this.maxDatagramBytes = n;
      return this;
    }

    /** Packets held per link while its first handshake completes. */
    public Builder waitingPerLink(int n) {
      this.waitingPerLink = n;
      return this;
    }

    public UdpTunnel build() {
      Objects.requireNonNull(nodeId, "nodeId");
      Objects.requireNonNull(bind, "bind");
      if (nodeId.isEmpty()) {
        throw new IllegalArgumentException("nodeId is empty");
      }
      if (!plaintext) {
        if (keys == null || certificate == null) {
          throw new IllegalStateException("identity(keys, certificate) is required unless plaintext(true)");
        }
        Objects.requireNonNull(rootTrust, "rootTrust is required unless plaintext(true)");
        Handshake.checkIdentity(certificate, nodeId, keys.publicKeyRef(), rootTrust);
      }
      if (maxLinks < 1 || probesBeforeDown < 1 || waitingPerLink < 0 || maxDatagramBytes < 128 || maxDatagramBytes > 65507) {
        throw new IllegalArgumentException("maxLinks, probesBeforeDown >= 1; waitingPerLink >= 0; maxDatagramBytes in 128..65507");
      }
      return new UdpTunnel(this); // the timer and handshake settings check their own values
    }
  }
}
