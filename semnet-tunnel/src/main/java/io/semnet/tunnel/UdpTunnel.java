package io.semnet.tunnel;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.SegmentedDatagramPacket;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.node.NodeContext;
import io.semnet.core.node.Tunnel;
import io.semnet.core.node.TunnelReceiver;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.trust.NodeCertificate;
import io.semnet.core.trust.RootTrust;
import io.semnet.tunnel.internal.Aead;
import io.semnet.tunnel.internal.Datagram;
import io.semnet.tunnel.internal.Epochs;
import io.semnet.tunnel.internal.Kdf;
import io.semnet.tunnel.internal.ProcNetUdp;
import io.semnet.tunnel.internal.X25519;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SemNet overlay: one UDP socket per node (Netty epoll, IPv4 or IPv6), a link per peer node as
 * state on that socket, every datagram sealed with an AEAD under per-session keys from an
 * X25519 handshake whose first message carries the sender's root-signed {@link NodeCertificate}.
 * The datagram format, key design and threat model are in the module README.
 *
 * <p>Guarantees: {@link #send} never blocks (what cannot go out is dropped and counted by
 * {@link DropReason}); a datagram that fails to parse, authenticate or pass the replay check is
 * dropped silently and counted, and creates no state; at most {@code maxLinks} links exist (the
 * least recently used is closed for a new one); links idle longer than {@code idleTimeout} are
 * closed; keepalive probes measure RTT into the node's {@link LocalNodeView} and mark unanswering
 * peers down. Receiver callbacks run on the tunnel's event loop thread, batch by batch.
 *
 * <pre>{@code
 * NodeKeys keys = NodeKeys.generate();
 * NodeCertificate cert = root.certify("worker-1", keys.publicKey(), notAfter);
 * UdpTunnel tunnel = UdpTunnel.builder()
 *     .nodeId("worker-1")
 *     .bind(new InetSocketAddress("0.0.0.0", 51820))
 *     .advertisedAddress(new InetSocketAddress("203.0.113.7", 51820))
 *     .identity(keys, cert)
 *     .rootTrust(root.trust())
 *     .build();
 * }</pre>
 */
public final class UdpTunnel implements Tunnel {
  private static final Logger log = LoggerFactory.getLogger(UdpTunnel.class);
  private static final TunnelReceiver NO_RECEIVER = new TunnelReceiver() {
    @Override
    public void onData(WorkerEndpoint from, ByteBuffer packet) {}

    @Override
    public void onRouteNotFound(WorkerEndpoint from, InetAddress namespaceIp) {}
  };
  private static final int HELLO_SEALED_BYTES = 32 + 8;
  private static final int ACK_SEALED_BYTES = 32 + 4 + 8;

  private final String nodeId;
  private final InetSocketAddress bindAddress;
  private final InetSocketAddress advertisedAddress;
  private final NodeKeys keys;
  private final NodeCertificate certificate;
  private final byte[] certificateBytes;
  private final RootTrust rootTrust;
  private final int maxLinks;
  private final long idleNanos;
  private final long keepaliveNanos;
  private final long handshakeRetryNanos;
  private final long rekeyNanos;
  private final long keyGraceNanos;
  private final long helloFreshnessMillis;
  private final long tickNanos;
  private final int probesBeforeDown;
  private final boolean plaintext;
  private final int receiveBufferBytes;
  private final int sendBufferBytes;
  private final boolean batching;
  private final boolean udpGro;
  private final boolean udpGso;
  private final CipherSuite suite;
  private final int maxDatagramBytes;
  private final int maxInnerBytes;
  private final int waitingPerLink;
  private final double helloRatePerSecond;

  private final ConcurrentHashMap<String, Link> links = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<InetSocketAddress, Link> byAddress = new ConcurrentHashMap<>();
  private final Object linkLock = new Object();
  private static final long FAST_PROBE_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final int OUTBOUND_CAPACITY = 8192;
  private static final int GRO_SLOT_BYTES = 65536;
  private static final int OUTBOUND_EAGER_DRAIN = 256;
  private final java.util.Queue<DatagramPacket> outbound = io.netty.util.internal.PlatformDependent.newFixedMpscQueue(OUTBOUND_CAPACITY);
  private final java.util.concurrent.atomic.AtomicBoolean drainScheduled = new java.util.concurrent.atomic.AtomicBoolean();
  private final Runnable drainTask = this::drainOutbound;
  /** Datagrams handed to the outbound queue that the channel has not yet taken. */
  private final AtomicInteger handoffs = new AtomicInteger();
  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
  private final ThreadLocal<GsoRun> gsoRuns = ThreadLocal.withInitial(GsoRun::new);
  private final AtomicLongArray dropCounts = new AtomicLongArray(DropReason.values().length);
  private final AtomicLong linksOpened = new AtomicLong();
  private final AtomicLong linksEvicted = new AtomicLong();
  private final AtomicLong linksIdleClosed = new AtomicLong();
  private final AtomicLong segmentedSends = new AtomicLong();
  private final AtomicLong directSends = new AtomicLong();
  private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;

  private volatile boolean running;
  private volatile boolean closed;
  private TunnelReceiver receiver = NO_RECEIVER;
  private LocalNodeView view;
  private EventLoopGroup group;
  private EpollDatagramChannel channel;
  private ScheduledFuture<?> ticker;
  private int epoch;
  private WorkerEndpoint local;
  private ByteBuffer rxIn;
  private java.nio.file.Path eventLoopTaskDir;
  private ByteBuffer rxScratch;
  private double helloTokens;
  private long helloTokensAt;

  private UdpTunnel(Builder b) {
    this.nodeId = b.nodeId;
    this.bindAddress = b.bind;
    this.advertisedAddress = b.advertised;
    this.keys = b.keys;
    this.certificate = b.certificate;
    this.certificateBytes = b.certificate == null ? null : b.certificate.encode();
    this.rootTrust = b.rootTrust;
    this.maxLinks = b.maxLinks;
    this.idleNanos = b.idleTimeout.toNanos();
    this.keepaliveNanos = b.keepaliveInterval.toNanos();
    this.handshakeRetryNanos = b.handshakeRetry.toNanos();
    this.rekeyNanos = b.rekeyAfter.toNanos();
    this.keyGraceNanos = b.keyGrace.toNanos();
    this.helloFreshnessMillis = b.firstContactFreshness.toMillis();
    this.tickNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(10),
        Math.min(Math.min(keepaliveNanos, handshakeRetryNanos), Math.min(idleNanos, keyGraceNanos)) / 4);
    this.probesBeforeDown = b.probesBeforeDown;
    this.plaintext = b.plaintext;
    this.receiveBufferBytes = b.receiveBufferBytes;
    this.sendBufferBytes = b.sendBufferBytes;
    this.batching = b.batching;
    this.udpGro = b.udpGro;
    this.udpGso = b.udpGso && b.batching && SegmentedDatagramPacket.isSupported();
    this.suite = b.suite;
    this.maxDatagramBytes = b.maxDatagramBytes;
    this.maxInnerBytes = b.maxDatagramBytes - Datagram.size(0, plaintext);
    this.waitingPerLink = b.waitingPerLink;
    this.helloRatePerSecond = b.firstContactsPerSecond;
  }

  /** A builder; nodeId, bind and (unless plaintext) identity and rootTrust are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Creates and binds the socket on the calling thread (so it lands in the calling thread's network
   * namespace) and starts the tunnel's event loop, whose thread inherits that namespace too. May
   * wait up to a second so that this run's epoch is strictly later than any earlier run's (nonces
   * never repeat across restarts, see README).
   */
  @Override
  public synchronized void start(NodeContext context) throws Exception {
    if (running || closed) {
      throw new IllegalStateException("tunnel " + nodeId + " can be started once");
    }
    Objects.requireNonNull(context, "context");
    if (context.tunnelReceiver() != null) {
      receiver = context.tunnelReceiver();
    }
    view = context.view();
    epoch = Epochs.next(plaintext ? "id:" + nodeId : java.util.Base64.getEncoder().encodeToString(keys.publicKeyRef()));
    helloTokens = helloRatePerSecond;
    helloTokensAt = System.nanoTime();
    rxIn = ByteBuffer.allocate(maxDatagramBytes);
    rxScratch = ByteBuffer.allocate(maxDatagramBytes);
    group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("semnet-tunnel-" + nodeId, true), EpollIoHandler.newFactory());
    try {
      boolean v6 = bindAddress.getAddress() instanceof Inet6Address;
      EpollDatagramChannel ch = new EpollDatagramChannel(v6 ? SocketProtocolFamily.INET6 : SocketProtocolFamily.INET);
      ch.config().setReceiveBufferSize(receiveBufferBytes);
      ch.config().setSendBufferSize(sendBufferBytes);
      ch.config().setWriteBufferWaterMark(new WriteBufferWaterMark(1 << 20, 4 << 20));
      // With GRO the kernel hands over runs of datagrams up to 64 KiB long, so every recvmmsg slot
      // must hold that much: a shorter slot would truncate the run.
      int slot = udpGro ? GRO_SLOT_BYTES : maxDatagramBytes;
      int perRead = !batching || udpGro ? 1 : 32;
      ch.config().setRecvByteBufAllocator(new FixedRecvByteBufAllocator(slot * perRead).maxMessagesPerRead(batching ? 8 : 16));
      if (batching) {
        ch.config().setOption(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, slot);
      }
      if (udpGro) {
        ch.config().setOption(EpollChannelOption.UDP_GRO, true);
      }
      ch.config().setOption(ChannelOption.MAX_MESSAGES_PER_WRITE, batching ? 64 : 1);
      ch.pipeline().addLast(new Handler());
      group.register(ch).sync();
      ch.bind(bindAddress).sync();
      channel = ch;
      eventLoopTaskDir = ch.eventLoop().submit(ProcNetUdp::taskDir).get(5, TimeUnit.SECONDS);
      InetSocketAddress bound = ch.localAddress();
      local = WorkerEndpoint.of(nodeId, advertisedAddress != null ? advertisedAddress : bound,
          plaintext ? new byte[0] : keys.publicKeyRef());
      running = true;
      ticker = ch.eventLoop().scheduleAtFixedRate(this::tick, tickNanos, tickNanos, TimeUnit.NANOSECONDS);
      log.debug("tunnel {} bound to {} (epoch {}, rcvbuf {}, sndbuf {})", nodeId, bound, epoch,
          ch.config().getReceiveBufferSize(), ch.config().getSendBufferSize());
    } catch (Exception e) {
      close();
      throw e;
    }
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
    return channel == null ? null : channel.localAddress();
  }

  /** This run's epoch (seconds since 2020, strictly increasing across runs). */
  public int epoch() {
    return epoch;
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
      drop(DropReason.CLOSED);
      return;
    }
    int n = packet.remaining();
    if (n > maxInnerBytes) {
      drop(DropReason.TOO_LARGE);
      return;
    }
    if (peer.nodeId().equals(nodeId)) {
      // Local delivery is the translator's job; a link to ourselves could never authenticate.
      drop(DropReason.SEND_FAILED);
      return;
    }
    Link link = linkFor(peer);
    if (link == null) {
      drop(DropReason.SEND_FAILED);
      return;
    }
    link.lastUsedNanos = System.nanoTime();
    Session s = link.sendSession();
    if (s == null) {
      wait(link, packet);
      return;
    }
    transmit(link, s, Datagram.TYPE_DATA, packet, false);
  }

  @Override
  public boolean isReady(WorkerEndpoint peer) {
    if (!running || peer.nodeId().equals(nodeId)) {
      return false;
    }
    Link link = linkFor(peer);
    return link != null && link.sendSession() != null;
  }

  @Override
  public void sendRouteNotFound(WorkerEndpoint peer, InetAddress namespaceIp) {
    if (!running) {
      drop(DropReason.CLOSED);
      return;
    }
    Link link = linkFor(peer);
    Session s = link == null ? null : link.sendSession();
    if (s == null) {
      // Notices answer data that arrived over an established link; without one there is nobody to tell.
      drop(DropReason.QUEUE_FULL);
      return;
    }
    transmit(link, s, Datagram.TYPE_ROUTE_NOT_FOUND, ByteBuffer.wrap(namespaceIp.getAddress()), true);
  }

  @Override
  public void flush() {
    EpollDatagramChannel ch = channel;
    if (ch == null || !running) {
      return;
    }
    boolean inLoop = ch.eventLoop().inEventLoop();
    if (udpGso) {
      GsoRun run = gsoRuns.get();
      if (!inLoop && run.segments == 1 && sendDirect(ch, run)) {
        run.reset();
      } else {
        pushRun(run);
      }
    }
    if (inLoop) {
      ch.flush();
    } else if (!outbound.isEmpty()) {
      scheduleDrain();
    }
  }

  /**
   * Sends a lone datagram from the calling thread straight to the socket, sparing the hand-over
   * to the event loop and its wake-up (a request/response exchange pays that twice per round
   * trip). Only when nothing sent earlier is still queued or unwritten, so datagrams never
   * overtake each other; otherwise, or if the socket is full, the caller queues as usual.
   *
   * @return true if sent (the run's buffer is released)
   */
  private boolean sendDirect(EpollDatagramChannel ch, GsoRun run) {
    io.netty.channel.ChannelOutboundBuffer pending = ch.unsafe().outboundBuffer();
    if (handoffs.get() != 0 || pending == null || pending.totalPendingWriteBytes() != 0) {
      return false;
    }
    ByteBuf b = run.buf;
    if (!b.hasMemoryAddress()) {
      return false;
    }
    InetSocketAddress to = run.link.endpoint.address();
    try {
      int n = ((io.netty.channel.unix.Socket) ch.fd()).sendToAddress(
          b.memoryAddress(), b.readerIndex(), b.writerIndex(), to.getAddress(), to.getPort());
      if (n <= 0) {
        return false;
      }
    } catch (IOException | RuntimeException e) {
      return false;
    }
    b.release();
    directSends.incrementAndGet();
    return true;
  }

  /** A snapshot of the counters; reads the kernel's receive-buffer drops for this socket. */
  public TunnelStats stats() {
    Map<DropReason, Long> d = new EnumMap<>(DropReason.class);
    for (DropReason r : DropReason.values()) {
      d.put(r, dropCounts.get(r.ordinal()));
    }
    List<LinkStats> ls = new ArrayList<>();
    for (Link l : links.values()) {
      ls.add(l.stats());
    }
    return new TunnelStats(d, receiveBufferDrops(), linksOpened.get(), linksEvicted.get(), linksIdleClosed.get(), segmentedSends.get(), directSends.get(), ls);
  }

  /** Datagrams the kernel dropped for want of receive-buffer space, or -1 if unknown. */
  public long receiveBufferDrops() {
    EpollDatagramChannel ch = channel;
    if (ch == null || !ch.isOpen()) {
      return -1;
    }
    // /proc/<pid>/task/<tid>/net shows the namespace of that thread: the event loop's, recorded at start.
    return ProcNetUdp.drops(eventLoopTaskDir, ch.fd().intValue());
  }

  /** Forces a new handshake (new key id and session keys) with an established peer; for key rotation on demand. */
  public void rekey(String peerNodeId) {
    Link l = links.get(peerNodeId);
    if (l != null && running) {
      channel.eventLoop().execute(() -> startHandshake(l));
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
    if (ticker != null) {
      ticker.cancel(false);
    }
    if (channel != null) {
      channel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    }
    if (group != null) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }
    DatagramPacket q;
    while ((q = outbound.poll()) != null) {
      q.release();
    }
    synchronized (linkLock) {
      for (Link l : links.values()) {
        releaseWaiting(l);
      }
      links.clear();
      byAddress.clear();
    }
  }

  // ---------------------------------------------------------------- links

  private Link linkFor(WorkerEndpoint peer) {
    Link l = links.get(peer.nodeId());
    if (l != null && !l.closed && (plaintext || peer.hasPublicKey(l.peerPublicKey))) {
      return l;
    }
    return openOutbound(peer);
  }

  private Link openOutbound(WorkerEndpoint peer) {
    Link fresh;
    synchronized (linkLock) {
      Link l = links.get(peer.nodeId());
      if (l != null && !l.closed && (plaintext || peer.hasPublicKey(l.peerPublicKey))) {
        return l;
      }
      byte[] pub = peer.publicKey();
      fresh = newLink(peer, pub);
      if (fresh == null) {
        return null;
      }
      if (l != null) {
        closeLink(l);
      }
      install(fresh);
    }
    channel.eventLoop().execute(() -> startHandshake(fresh));
    return fresh;
  }

  /** A link with its static handshake keys, or null if the peer's key is unusable. */
  private Link newLink(WorkerEndpoint peer, byte[] pub) {
    if (plaintext) {
      return new Link(peer, pub, null, null, null, System.nanoTime());
    }
    if (pub.length != 32) {
      return null;
    }
    byte[] shared = X25519.agree(keys.privateKey(), X25519.publicKey(pub));
    if (shared == null) {
      return null;
    }
    byte[] prk0 = Kdf.extract("semnet-tunnel-v1 static", shared);
    byte[] mine = keys.publicKeyRef();
    SecretKey send = aeadKey(Kdf.expand(prk0, "handshake", mine, pub));
    SecretKey recv = aeadKey(Kdf.expand(prk0, "handshake", pub, mine));
    return new Link(peer, pub, send, recv, prk0, System.nanoTime());
  }

  private SecretKey aeadKey(byte[] k) {
    return new SecretKeySpec(k, 0, 32, suite.keyAlgorithm());
  }

  /** Adds a link, closing the least recently used one if the limit is reached. Caller holds linkLock. */
  private void install(Link l) {
    while (links.size() >= maxLinks) {
      Link lru = null;
      for (Link x : links.values()) {
        if (lru == null || x.lastUsedNanos - lru.lastUsedNanos < 0) {
          lru = x;
        }
      }
      if (lru == null) {
        break;
      }
      closeLink(lru);
      linksEvicted.incrementAndGet();
    }
    links.put(l.nodeId, l);
    byAddress.put(l.endpoint.address(), l);
    linksOpened.incrementAndGet();
  }

  private void closeLink(Link l) {
    synchronized (linkLock) {
      l.closed = true;
      links.remove(l.nodeId, l);
      byAddress.remove(l.endpoint.address(), l);
      releaseWaiting(l);
    }
    if (view != null) {
      view.forgetPeer(l.nodeId);
    }
  }

  private void moveTo(Link l, InetSocketAddress observed) {
    if (!observed.equals(l.endpoint.address())) {
      synchronized (linkLock) {
        byAddress.remove(l.endpoint.address(), l);
        l.endpoint = WorkerEndpoint.of(l.nodeId, observed, l.peerPublicKey);
        if (!l.closed) {
          byAddress.put(observed, l);
        }
      }
    }
  }

  private void wait(Link link, ByteBuffer packet) {
    synchronized (link.waiting) {
      if (link.waiting.size() >= waitingPerLink || link.closed) {
        drop(DropReason.QUEUE_FULL, link);
        return;
      }
      ByteBuf copy = alloc.directBuffer(packet.remaining());
      copy.writeBytes(packet.duplicate());
      link.waiting.add(copy);
    }
    // The session may have arrived between the check and the enqueue.
    if (link.sendSession() != null) {
      channel.eventLoop().execute(() -> flushWaiting(link));
    }
  }

  private void flushWaiting(Link link) {
    Session s = link.sendSession();
    if (s == null) {
      return;
    }
    while (true) {
      ByteBuf b;
      synchronized (link.waiting) {
        b = link.waiting.poll();
      }
      if (b == null) {
        break;
      }
      try {
        transmit(link, s, Datagram.TYPE_DATA, b.nioBuffer(), false);
      } finally {
        b.release();
      }
    }
    if (udpGso) {
      pushRun(gsoRuns.get());
    }
    channel.flush();
  }

  private void releaseWaiting(Link l) {
    synchronized (l.waiting) {
      ByteBuf b;
      while ((b = l.waiting.poll()) != null) {
        b.release();
      }
    }
  }

  // ---------------------------------------------------------------- sending

  private void transmit(Link link, Session s, int type, ByteBuffer payload, boolean flushNow) {
    EpollDatagramChannel ch = channel;
    if (!ch.isWritable()) {
      drop(DropReason.BACKPRESSURE, link);
      return;
    }
    int n = payload.remaining();
    int size = Datagram.size(n, plaintext);
    GsoRun run = null;
    ByteBuf buf;
    if (udpGso && type == Datagram.TYPE_DATA && !flushNow) {
      run = gsoRuns.get();
      if (!run.accepts(link, size)) {
        pushRun(run);
      }
      if (run.buf == null) {
        run.start(link, size, alloc.directBuffer(GsoRun.MAX_BYTES));
      }
      buf = run.buf;
    } else {
      buf = alloc.directBuffer(size);
    }
    try {
      // The JDK ciphers copy direct buffers into fresh heap arrays (2 KB per packet measured);
      // sealing between per-thread heap buffers and copying once into the direct buffer avoids it.
      Scratch x = SCRATCH.get();
      ByteBuffer in = x.in(size);
      int pos = payload.position();
      in.put(payload).flip();
      payload.position(pos);
      ByteBuffer out = x.out(size);
      Datagram.seal(suite, s.sendKey, type, s.keyId, epoch, link.counter.getAndIncrement(), in, out);
      out.flip();
      buf.writeBytes(out);
    } catch (RuntimeException e) {
      if (run == null) {
        buf.release();
      }
      drop(DropReason.SEND_FAILED, link);
      return;
    }
    link.txPackets.incrementAndGet();
    if (type == Datagram.TYPE_DATA) {
      link.txBytes.addAndGet(n);
    }
    if (run != null) {
      run.added(size);
      return;
    }
    hand(ch, new DatagramPacket(buf, link.endpoint.address()), link, flushNow);
  }

  /** Queues one datagram (or a run of them) on the channel, from whichever thread is sending. */
  private void hand(EpollDatagramChannel ch, DatagramPacket p, Link link, boolean flushNow) {
    if (ch.eventLoop().inEventLoop()) {
      if (flushNow || !batching) {
        ch.writeAndFlush(p, ch.voidPromise());
      } else {
        ch.write(p, ch.voidPromise());
      }
    } else if (!batching) {
      ch.writeAndFlush(p, ch.voidPromise());
    } else {
      // Other threads hand datagrams over through one queue and one task per flush, instead of a
      // Netty write task (and event-loop wake-up) per datagram.
      handoffs.incrementAndGet();
      if (!outbound.offer(p)) {
        handoffs.decrementAndGet();
        p.release();
        drop(DropReason.BACKPRESSURE, link);
        return;
      }
      if (flushNow || outbound.size() >= OUTBOUND_EAGER_DRAIN) {
        scheduleDrain();
      }
    }
  }

  /** Hands the calling thread's run of datagrams to the channel: one send with UDP_SEGMENT. */
  private void pushRun(GsoRun run) {
    if (run.buf == null) {
      return;
    }
    DatagramPacket p;
    if (run.segments > 1) {
      p = new SegmentedDatagramPacket(run.buf, run.segmentSize, run.link.endpoint.address());
      segmentedSends.incrementAndGet();
    } else {
      p = new DatagramPacket(run.buf, run.link.endpoint.address());
    }
    Link link = run.link;
    run.reset();
    hand(channel, p, link, false);
  }

  /**
   * Datagrams a thread sealed back to back for one peer, all of one size but the last, sent as
   * one UDP GSO super-datagram: the kernel's UDP/IP and forwarding path runs once per run instead
   * of once per datagram, and a receiver with UDP GRO gets the run in one read.
   */
  private static final class GsoRun {
    /** Room for a run: the kernel's UDP_SEGMENT limit is 64 segments and 64 KiB. */
    static final int MAX_BYTES = 65_000;
    static final int MAX_SEGMENTS = 64;
    Link link;
    ByteBuf buf;
    int segmentSize;
    int segments;
    boolean ended;

    boolean accepts(Link l, int size) {
      return buf == null || (l == link && !ended && size <= segmentSize && segments < MAX_SEGMENTS
          && buf.writableBytes() >= size);
    }

    void start(Link l, int size, ByteBuf b) {
      link = l;
      buf = b;
      segmentSize = size;
      segments = 0;
      ended = false;
    }

    void added(int size) {
      segments++;
      ended = size < segmentSize;
    }

    void reset() {
      link = null;
      buf = null;
      segments = 0;
    }
  }

  private void scheduleDrain() {
    if (drainScheduled.compareAndSet(false, true)) {
      channel.eventLoop().execute(drainTask);
    }
  }

  private void drainOutbound() {
    drainScheduled.set(false);
    EpollDatagramChannel ch = channel;
    DatagramPacket p;
    int n = 0;
    while ((p = outbound.poll()) != null) {
      ch.write(p, ch.voidPromise());
      // Counted down only once the channel holds it, so a direct send never overtakes it.
      handoffs.decrementAndGet();
      if (++n % 64 == 0) {
        ch.flush();
      }
    }
    ch.flush();
  }

  /** Writes a handshake datagram built by the caller (event loop). */
  private void writeRaw(Link link, ByteBuf buf) {
    link.txPackets.incrementAndGet();
    channel.write(new DatagramPacket(buf, link.endpoint.address()), channel.voidPromise());
  }

  private void startHandshake(Link link) {
    if (link.closed || !running) {
      return;
    }
    Session c = link.current;
    link.pendingKeyId = c == null ? 0 : (c.keyId + 1) & 0xff;
    if (!plaintext) {
      KeyPair eph = ephemeral();
      link.ephPrivate = eph.getPrivate();
      link.ephPublic = X25519.rawPublic(eph.getPublic());
    }
    link.helloAttempts = 0;
    sendHello(link);
    channel.flush();
  }

  private static KeyPair ephemeral() {
    try {
      return KeyPairGenerator.getInstance("X25519").generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private void sendHello(Link link) {
    long ctr = link.counter.getAndIncrement();
    byte[] h = new byte[Datagram.HEADER_BYTES];
    link.helloCounter = ctr;
    link.helloSentNanos = System.nanoTime();
    link.helloAttempts++;
    if (plaintext) {
      byte[] id = nodeId.getBytes(StandardCharsets.UTF_8);
      Datagram.header(h, Datagram.TYPE_FIRST_CONTACT, link.pendingKeyId, Datagram.FLAG_PLAINTEXT, epoch, ctr);
      ByteBuf buf = alloc.directBuffer(h.length + 2 + id.length);
      buf.writeBytes(h).writeShort(id.length).writeBytes(id);
      writeRaw(link, buf);
      return;
    }
    Datagram.header(h, Datagram.TYPE_FIRST_CONTACT, link.pendingKeyId, 0, epoch, ctr);
    byte[] aad = new byte[h.length + 2 + certificateBytes.length];
    System.arraycopy(h, 0, aad, 0, h.length);
    aad[h.length] = (byte) (certificateBytes.length >>> 8);
    aad[h.length + 1] = (byte) certificateBytes.length;
    System.arraycopy(certificateBytes, 0, aad, h.length + 2, certificateBytes.length);
    ByteBuffer plain = ByteBuffer.allocate(HELLO_SEALED_BYTES);
    plain.put(link.ephPublic).putLong(System.currentTimeMillis()).flip();
    ByteBuffer out = ByteBuffer.allocate(aad.length + HELLO_SEALED_BYTES + Aead.TAG_BYTES);
    out.put(aad);
    Aead.forThread(suite).seal(link.hsSendKey, epoch, ctr, aad, aad.length, plain, out);
    out.flip();
    writeRaw(link, alloc.directBuffer(out.remaining()).writeBytes(out));
  }

  private void sendAck(Link link, int keyId, byte[] ephPublic, int helloEpoch, long helloCounter) {
    long ctr = link.counter.getAndIncrement();
    byte[] h = new byte[Datagram.HEADER_BYTES];
    if (plaintext) {
      Datagram.header(h, Datagram.TYPE_FIRST_CONTACT_REPLY, keyId, Datagram.FLAG_PLAINTEXT, epoch, ctr);
      ByteBuf buf = alloc.directBuffer(h.length + 12);
      buf.writeBytes(h).writeInt(helloEpoch).writeLong(helloCounter);
      writeRaw(link, buf);
      return;
    }
    Datagram.header(h, Datagram.TYPE_FIRST_CONTACT_REPLY, keyId, 0, epoch, ctr);
    ByteBuffer plain = ByteBuffer.allocate(ACK_SEALED_BYTES);
    plain.put(ephPublic).putInt(helloEpoch).putLong(helloCounter).flip();
    ByteBuffer out = ByteBuffer.allocate(h.length + ACK_SEALED_BYTES + Aead.TAG_BYTES);
    out.put(h);
    Aead.forThread(suite).seal(link.hsSendKey, epoch, ctr, h, h.length, plain, out);
    out.flip();
    writeRaw(link, alloc.directBuffer(out.remaining()).writeBytes(out));
  }

  private void sendProbe(Link link) {
    Session s = link.sendSession();
    if (s == null) {
      return;
    }
    long now = System.nanoTime();
    link.probeSentNanos = now;
    link.probeOutstanding = true;
    ByteBuffer b = ByteBuffer.allocate(8).putLong(0, now);
    transmit(link, s, Datagram.TYPE_PROBE, b, false);
  }

  // ---------------------------------------------------------------- receiving (event loop)

  /** Runs {@code r} on the tunnel's event loop and waits (tests drive the decoder this way); rethrows what it throws. */
  void runOnLoop(Runnable r) throws Exception {
    try {
      channel.eventLoop().submit(r).get(10, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof RuntimeException) {
        throw (RuntimeException) e.getCause();
      }
      throw e;
    }
  }

  /** Handles one received datagram (position to limit). Package-private for the fuzz test. */
  void onDatagram(ByteBuffer d, InetSocketAddress from) {
    int len = d.remaining();
    if (len < Datagram.HEADER_BYTES) {
      drop(DropReason.TRUNCATED);
      return;
    }
    if (Datagram.version(d) != Datagram.VERSION) {
      drop(DropReason.UNKNOWN_VERSION);
      return;
    }
    int type = Datagram.type(d);
    if (!Datagram.knownType(type)) {
      drop(DropReason.UNKNOWN_TYPE);
      return;
    }
    int flags = Datagram.flags(d);
    if (((flags & Datagram.FLAG_PLAINTEXT) != 0) != plaintext || (flags & ~Datagram.FLAG_PLAINTEXT) != 0) {
      drop(DropReason.MODE_MISMATCH);
      return;
    }
    if (type == Datagram.TYPE_FIRST_CONTACT) {
      onFirstContact(d, from);
      return;
    }
    if (type != Datagram.TYPE_FIRST_CONTACT_REPLY && len < Datagram.size(0, plaintext)) {
      drop(DropReason.TRUNCATED);
      return;
    }
    Link link = byAddress.get(from);
    if (link == null || link.closed) {
      drop(DropReason.UNKNOWN_PEER);
      return;
    }
    if (type == Datagram.TYPE_FIRST_CONTACT_REPLY) {
      onReply(link, d);
      return;
    }
    int keyId = Datagram.keyId(d);
    int peerEpoch = Datagram.epoch(d);
    long counter = Datagram.counter(d);
    Session s = link.current;
    if (s == null || s.keyId != keyId || s.peerEpoch != peerEpoch) {
      s = link.previous;
      if (s == null || s.keyId != keyId || s.peerEpoch != peerEpoch) {
        drop(DropReason.STALE_KEY, link);
        return;
      }
    }
    if (!s.window.check(counter)) {
      drop(DropReason.REPLAYED, link);
      return;
    }
    ByteBuffer in = rxIn;
    in.clear();
    in.put(0, d, d.position(), len).limit(len);
    ByteBuffer out = rxScratch;
    out.clear();
    int n = Datagram.open(suite, s.recvKey, in, out);
    if (n < 0) {
      drop(DropReason.AUTH_FAILED, link);
      return;
    }
    s.window.commit(counter);
    if (!s.confirmed) {
      s.confirmed = true;
    }
    out.flip();
    link.rxPackets.incrementAndGet();
    switch (type) {
      case Datagram.TYPE_DATA:
        link.rxBytes.addAndGet(n);
        link.lastUsedNanos = System.nanoTime();
        receiver.onData(link.endpoint, out);
        break;
      case Datagram.TYPE_ROUTE_NOT_FOUND:
        if (n != 4 && n != 16) {
          drop(DropReason.MALFORMED, link);
          return;
        }
        byte[] ip = new byte[n];
        out.get(ip);
        try {
          receiver.onRouteNotFound(link.endpoint, InetAddress.getByAddress(ip));
        } catch (UnknownHostException e) {
          drop(DropReason.MALFORMED, link);
        }
        break;
      case Datagram.TYPE_PROBE:
        if (n != 8) {
          drop(DropReason.MALFORMED, link);
          return;
        }
        Session reply = link.sendSession();
        if (reply != null) {
          transmit(link, reply, Datagram.TYPE_PROBE_ECHO, out, false);
        }
        break;
      case Datagram.TYPE_PROBE_ECHO:
        if (n != 8) {
          drop(DropReason.MALFORMED, link);
          return;
        }
        long sent = out.getLong(0);
        if (link.probeOutstanding && sent == link.probeSentNanos) {
          long rtt = System.nanoTime() - sent;
          link.probeOutstanding = false;
          link.missedProbes = 0;
          link.lastRttNanos = rtt;
          link.up = true;
          if (view != null) {
            view.recordPeerRtt(link.nodeId, rtt);
          }
        }
        break;
      default:
        drop(DropReason.UNKNOWN_TYPE, link);
    }
  }

  private boolean helloToken() {
    long now = System.nanoTime();
    helloTokens = Math.min(helloRatePerSecond, helloTokens + (now - helloTokensAt) * helloRatePerSecond / 1e9);
    helloTokensAt = now;
    if (helloTokens < 1) {
      return false;
    }
    helloTokens -= 1;
    return true;
  }

  private void onFirstContact(ByteBuffer d, InetSocketAddress from) {
    int base = d.position();
    int len = d.remaining();
    int keyId = Datagram.keyId(d);
    int peerEpoch = Datagram.epoch(d);
    long counter = Datagram.counter(d);
    if (len < Datagram.HEADER_BYTES + 2) {
      drop(DropReason.TRUNCATED);
      return;
    }
    int bodyLen = d.getShort(base + Datagram.HEADER_BYTES) & 0xffff;
    int sealed = plaintext ? 0 : HELLO_SEALED_BYTES + Aead.TAG_BYTES;
    if (len != Datagram.HEADER_BYTES + 2 + bodyLen + sealed) {
      drop(DropReason.TRUNCATED);
      return;
    }
    byte[] body = new byte[bodyLen];
    d.get(base + Datagram.HEADER_BYTES + 2, body);
    if (plaintext) {
      String peerId = new String(body, StandardCharsets.UTF_8);
      if (peerId.isEmpty() || peerId.equals(nodeId)) {
        drop(DropReason.MALFORMED);
        return;
      }
      Link link = acceptInbound(peerId, new byte[0], from, null);
      if (link == null) {
        return;
      }
      establishResponder(link, keyId, peerEpoch, counter, null, null, null);
      moveTo(link, from);
      return;
    }
    if (!helloToken()) {
      drop(DropReason.RATE_LIMITED);
      return;
    }
    NodeCertificate cert;
    try {
      cert = NodeCertificate.decode(body);
    } catch (IllegalArgumentException e) {
      drop(DropReason.BAD_CERTIFICATE);
      return;
    }
    byte[] pub = cert.publicKey();
    if (cert.nodeId().equals(nodeId) || pub.length != 32 || !rootTrust.verify(cert, Instant.now())) {
      drop(DropReason.BAD_CERTIFICATE);
      return;
    }
    Link existing = links.get(cert.nodeId());
    boolean sameKey = existing != null && !existing.closed && Arrays.equals(existing.peerPublicKey, pub);
    Link keysFrom = sameKey ? existing : newLink(WorkerEndpoint.of(cert.nodeId(), from, pub), pub);
    if (keysFrom == null) {
      drop(DropReason.BAD_CERTIFICATE);
      return;
    }
    byte[] aad = new byte[Datagram.HEADER_BYTES + 2 + bodyLen];
    d.get(base, aad);
    ByteBuffer in = d.duplicate().position(base + aad.length);
    ByteBuffer plain = ByteBuffer.allocate(HELLO_SEALED_BYTES + Aead.TAG_BYTES);
    if (Aead.forThread(suite).open(keysFrom.hsRecvKey, peerEpoch, counter, aad, aad.length, in, plain) != HELLO_SEALED_BYTES) {
      drop(DropReason.AUTH_FAILED);
      return;
    }
    plain.flip();
    byte[] ephPeer = new byte[32];
    plain.get(ephPeer);
    long sentMillis = plain.getLong();
    if (Math.abs(System.currentTimeMillis() - sentMillis) > helloFreshnessMillis) {
      drop(DropReason.REPLAYED);
      return;
    }
    if (sameKey && !newer(peerEpoch, counter, existing.lastHelloEpoch, existing.lastHelloCounter)) {
      drop(DropReason.REPLAYED, existing);
      return;
    }
    if (sameKey && existing.handshakePending() && Arrays.compareUnsigned(keys.publicKeyRef(), pub) < 0) {
      // Both sides opened at once: the side with the smaller key stays initiator, the other answers.
      existing.lastHelloEpoch = peerEpoch;
      existing.lastHelloCounter = counter;
      return;
    }
    KeyPair eph = ephemeral();
    byte[] ephMine = X25519.rawPublic(eph.getPublic());
    byte[] dh;
    try {
      dh = X25519.agree(eph.getPrivate(), X25519.publicKey(ephPeer));
    } catch (IllegalArgumentException e) {
      dh = null;
    }
    if (dh == null) {
      drop(DropReason.AUTH_FAILED);
      return;
    }
    Link link = sameKey ? existing : acceptInbound(cert.nodeId(), pub, from, keysFrom);
    if (link == null) {
      return;
    }
    byte[][] k = sessionKeys(link.prk0, dh, ephPeer, ephMine, keyId, peerEpoch, epoch);
    establishResponder(link, keyId, peerEpoch, counter, ephMine, aeadKey(k[1]), aeadKey(k[0]));
    moveTo(link, from);
  }

  private static boolean newer(int epochA, long counterA, int epochB, long counterB) {
    if (counterB < 0) {
      return true;
    }
    int c = Integer.compareUnsigned(epochA, epochB);
    return c > 0 || (c == 0 && Long.compareUnsigned(counterA, counterB) > 0);
  }

  /** Installs (or finds) the link for an authenticated first contact. */
  private Link acceptInbound(String peerId, byte[] pub, InetSocketAddress from, Link keysFrom) {
    synchronized (linkLock) {
      Link existing = links.get(peerId);
      if (existing != null && !existing.closed && (plaintext || Arrays.equals(existing.peerPublicKey, pub))) {
        return existing;
      }
      Link l = keysFrom != null ? keysFrom : newLink(WorkerEndpoint.of(peerId, from, pub), pub);
      if (existing != null) {
        closeLink(existing);
      }
      install(l);
      return l;
    }
  }

  private void establishResponder(Link link, int keyId, int peerEpoch, long helloCounter, byte[] ephMine, SecretKey send, SecretKey recv) {
    link.lastHelloEpoch = peerEpoch;
    link.lastHelloCounter = helloCounter;
    Session cur = link.current;
    boolean sameRun = cur != null && cur.peerEpoch == peerEpoch && !plaintext;
    link.previous = sameRun ? cur : null;
    link.current = new Session(keyId, peerEpoch, send, recv, false, System.nanoTime(), !sameRun);
    link.pendingKeyId = -1;
    link.ephPrivate = null;
    sendAck(link, keyId, ephMine, peerEpoch, helloCounter);
    flushWaiting(link);
  }

  private void onReply(Link link, ByteBuffer d) {
    int keyId = Datagram.keyId(d);
    int peerEpoch = Datagram.epoch(d);
    long counter = Datagram.counter(d);
    if (!link.handshakePending() || keyId != link.pendingKeyId) {
      drop(DropReason.STALE_KEY, link);
      return;
    }
    SecretKey send = null;
    SecretKey recv = null;
    int echoEpoch;
    long echoCounter;
    if (plaintext) {
      if (d.remaining() != Datagram.HEADER_BYTES + 12) {
        drop(DropReason.TRUNCATED, link);
        return;
      }
      echoEpoch = d.getInt(d.position() + Datagram.HEADER_BYTES);
      echoCounter = d.getLong(d.position() + Datagram.HEADER_BYTES + 4);
      if (echoEpoch != epoch || echoCounter != link.helloCounter) {
        drop(DropReason.REPLAYED, link);
        return;
      }
    } else {
      if (d.remaining() != Datagram.HEADER_BYTES + ACK_SEALED_BYTES + Aead.TAG_BYTES) {
        drop(DropReason.TRUNCATED, link);
        return;
      }
      byte[] h = new byte[Datagram.HEADER_BYTES];
      d.get(d.position(), h);
      ByteBuffer in = d.duplicate().position(d.position() + Datagram.HEADER_BYTES);
      ByteBuffer plain = ByteBuffer.allocate(ACK_SEALED_BYTES + Aead.TAG_BYTES);
      if (Aead.forThread(suite).open(link.hsRecvKey, peerEpoch, counter, h, h.length, in, plain) != ACK_SEALED_BYTES) {
        drop(DropReason.AUTH_FAILED, link);
        return;
      }
      plain.flip();
      byte[] ephPeer = new byte[32];
      plain.get(ephPeer);
      echoEpoch = plain.getInt();
      echoCounter = plain.getLong();
      if (echoEpoch != epoch || echoCounter != link.helloCounter) {
        drop(DropReason.REPLAYED, link);
        return;
      }
      byte[] dh;
      try {
        dh = X25519.agree(link.ephPrivate, X25519.publicKey(ephPeer));
      } catch (IllegalArgumentException e) {
        dh = null;
      }
      if (dh == null) {
        drop(DropReason.AUTH_FAILED, link);
        return;
      }
      byte[][] k = sessionKeys(link.prk0, dh, link.ephPublic, ephPeer, keyId, epoch, peerEpoch);
      send = aeadKey(k[0]);
      recv = aeadKey(k[1]);
    }
    Session cur = link.current;
    link.previous = cur != null && cur.peerEpoch == peerEpoch && !plaintext ? cur : null;
    link.current = new Session(keyId, peerEpoch, send, recv, true, System.nanoTime(), true);
    link.pendingKeyId = -1;
    link.ephPrivate = null;
    link.helloAttempts = 0;
    link.rxPackets.incrementAndGet();
    sendProbe(link);
    flushWaiting(link);
  }

  /** [initiator→responder, responder→initiator] keys of one handshake. */
  private static byte[][] sessionKeys(byte[] prk0, byte[] dh, byte[] ephI, byte[] ephR, int keyId, int epochI, int epochR) {
    byte[] ctx = ByteBuffer.allocate(9).put((byte) keyId).putInt(epochI).putInt(epochR).array();
    byte[] prk = Kdf.hmac(prk0, dh, ephI, ephR, ctx);
    return new byte[][] {Kdf.expand(prk, "initiator->responder"), Kdf.expand(prk, "responder->initiator")};
  }

  // ---------------------------------------------------------------- timers (event loop)

  private void tick() {
    if (!running) {
      return;
    }
    try {
      tickLinks();
    } catch (RuntimeException e) {
      // A periodic task that throws is never run again: keep the timers alive whatever happens.
      log.warn("tunnel {}: timer error", nodeId, e);
    }
  }

  private void tickLinks() {
    long now = System.nanoTime();
    for (Link l : links.values()) {
      if (l.closed) {
        continue;
      }
      if (now - l.lastUsedNanos > idleNanos) {
        closeLink(l);
        linksIdleClosed.incrementAndGet();
        continue;
      }
      if (l.handshakePending() && now - l.helloSentNanos >= handshakeRetryNanos) {
        if (l.helloAttempts >= probesBeforeDown && l.up) {
          markDown(l);
        }
        sendHello(l);
      }
      Session c = l.current;
      if (c == null) {
        continue;
      }
      long sinceProbe = now - l.probeSentNanos;
      boolean due;
      if (l.probeOutstanding && now - l.lastUsedNanos < keepaliveNanos) {
        // Data is flowing: do not wait a whole keepalive interval to notice a dead or restarted
        // peer; an echo overdue by max(1 s, 4 RTT) counts as missed and the next probe goes now.
        long rtt = l.lastRttNanos;
        due = sinceProbe >= Math.min(keepaliveNanos, Math.max(FAST_PROBE_TIMEOUT_NANOS, rtt > 0 ? 4 * rtt : 0));
      } else {
        due = sinceProbe >= keepaliveNanos;
      }
      if (due) {
        if (l.probeOutstanding && ++l.missedProbes >= probesBeforeDown && l.up) {
          markDown(l);
          if (!l.handshakePending()) {
            // The peer may have restarted and lost our session: a new handshake recovers it.
            startHandshake(l);
          }
        }
        sendProbe(l);
      }
      if (c.initiator && !l.handshakePending() && now - c.createdNanos >= rekeyNanos) {
        startHandshake(l);
      }
      if (l.previous != null && now - c.createdNanos >= keyGraceNanos) {
        l.previous = null;
      }
    }
    channel.flush();
  }

  private void markDown(Link l) {
    l.up = false;
    if (view != null) {
      view.setPeerUp(l.nodeId, false);
    }
  }

  // ---------------------------------------------------------------- counters

  private void drop(DropReason r) {
    dropCounts.incrementAndGet(r.ordinal());
  }

  private void drop(DropReason r, Link l) {
    dropCounts.incrementAndGet(r.ordinal());
    l.drops.incrementAndGet();
  }

  private final class Handler extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof DatagramPacket)) {
        io.netty.util.ReferenceCountUtil.release(msg);
        return;
      }
      DatagramPacket p = (DatagramPacket) msg;
      try {
        ByteBuf c = p.content();
        onDatagram(c.internalNioBuffer(c.readerIndex(), c.readableBytes()), p.sender());
      } catch (RuntimeException e) {
        // A receiver bug must not kill the tunnel; count it like a malformed datagram.
        drop(DropReason.MALFORMED);
        log.debug("tunnel {}: error handling a datagram", nodeId, e);
      } finally {
        p.release();
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      try {
        receiver.onTunnelBatchEnd();
      } finally {
        if (udpGso) {
          pushRun(gsoRuns.get());
        }
        ctx.flush();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      drop(DropReason.SEND_FAILED);
      log.trace("tunnel {}: socket error", nodeId, cause);
    }
  }

  /** Per-thread heap buffers for sealing (grown on demand, never shrunk). */
  private static final class Scratch {
    private ByteBuffer in = ByteBuffer.allocate(2048);
    private ByteBuffer out = ByteBuffer.allocate(2048);

    ByteBuffer in(int n) {
      if (in.capacity() < n) {
        in = ByteBuffer.allocate(n);
      }
      in.clear();
      return in;
    }

    ByteBuffer out(int n) {
      if (out.capacity() < n) {
        out = ByteBuffer.allocate(n);
      }
      out.clear();
      return out;
    }
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
    private Duration keepaliveInterval = Duration.ofSeconds(10);
    private Duration handshakeRetry = Duration.ofSeconds(1);
    private Duration rekeyAfter = Duration.ofMinutes(2);
    private Duration keyGrace = Duration.ofSeconds(10);
    private Duration firstContactFreshness = Duration.ofMinutes(2);
    private int probesBeforeDown = 3;
    private boolean plaintext;
    private int receiveBufferBytes = 8 << 20;
    private int sendBufferBytes = 8 << 20;
    private boolean batching = true;
    private boolean udpGro = true;
    private boolean udpGso = true;
    private CipherSuite suite = CipherSuite.AES_256_GCM;
    private int maxDatagramBytes = 2048;
    private int waitingPerLink = 64;
    private double firstContactsPerSecond = 500;

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

    /** Probe period on established links (keeps NAT mappings open, measures RTT). */
    public Builder keepaliveInterval(Duration d) {
      this.keepaliveInterval = d;
      return this;
    }

    /** First-contact retransmission period. */
    public Builder handshakeRetry(Duration d) {
      this.handshakeRetry = d;
      return this;
    }

    /** Unanswered probes (or first contacts) before a peer is marked down. */
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

    /** First contacts older than this (by their sealed timestamp) are rejected; bounds replay after a restart. */
    public Builder firstContactFreshness(Duration d) {
      this.firstContactFreshness = d;
      return this;
    }

    /** Certificate checks per second before first contacts are dropped (CPU bound on forged first contacts). */
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
        if (!certificate.nodeId().equals(nodeId) || !Arrays.equals(certificate.publicKey(), keys.publicKeyRef())) {
          throw new IllegalArgumentException("certificate " + certificate + " does not vouch for this node's id and public key");
        }
        if (!rootTrust.verify(certificate, Instant.now())) {
          throw new IllegalArgumentException("certificate " + certificate + " is not valid under the configured root");
        }
      }
      if (maxLinks < 1 || probesBeforeDown < 1 || waitingPerLink < 0 || maxDatagramBytes < 128 || maxDatagramBytes > 65507) {
        throw new IllegalArgumentException("maxLinks, probesBeforeDown >= 1; waitingPerLink >= 0; maxDatagramBytes in 128..65507");
      }
      for (Duration d : List.of(idleTimeout, keepaliveInterval, handshakeRetry, rekeyAfter, keyGrace, firstContactFreshness)) {
        if (d.isNegative() || d.isZero()) {
          throw new IllegalArgumentException("durations must be positive");
        }
      }
      return new UdpTunnel(this);
    }
  }
}
