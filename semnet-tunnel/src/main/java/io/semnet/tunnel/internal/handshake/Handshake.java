package io.semnet.tunnel.internal.handshake;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.trust.NodeCertificate;
import io.semnet.core.trust.RootTrust;
import io.semnet.tunnel.CipherSuite;
import io.semnet.tunnel.DropReason;
import io.semnet.tunnel.internal.Datagram;
import io.semnet.tunnel.internal.conn.SendPath;
import io.semnet.tunnel.internal.link.Drops;
import io.semnet.tunnel.internal.link.IndexTable;
import io.semnet.tunnel.internal.link.Link;
import io.semnet.tunnel.internal.link.LinkTable;
import io.semnet.tunnel.internal.link.Session;
import io.semnet.tunnel.internal.noise.CookieGenerator;
import io.semnet.tunnel.internal.noise.DhKeyPair;
import io.semnet.tunnel.internal.noise.HandshakeCodec;
import io.semnet.tunnel.internal.noise.SessionKeys;
import io.semnet.tunnel.internal.noise.SourceRateLimiter;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.crypto.spec.SecretKeySpec;

/**
 * The tunnel's handshake driver on the event loop (README, "Protocol"): runs the Noise IK
 * handshake of {@code internal.noise} over the socket. As initiator it sends initiations carrying
 * this node's certificate in the encrypted payload (a new one per retry; resent at once, with mac2,
 * when a cookie reply comes), and installs the session when the response arrives. As responder it
 * answers initiations after mac1, cookies under load, the per-source-IP bucket, Noise, the
 * certificate check ({@link CertificateCheck}), the replay floor and the per-key bucket; the new
 * session waits in {@link Link#next} until the initiator's first datagram under it confirms the
 * keys. Sessions and pending initiations are found by receiver index ({@link IndexTable}), never by
 * source address. Every refusal is counted by {@link DropReason}; no state is created for one.
 */
public final class Handshake implements LinkTable.Factory {
  /** This node's identity and the handshake's limits. */
  public record Settings(String nodeId, byte[] privateKey, NodeCertificate certificate, RootTrust rootTrust, CipherSuite suite,
      boolean plaintext, double verifyPerSecond, int perSourcePerSecond, int perSourceBurst, int perKeyPerSecond, int underLoadPerSecond,
      Clock clock, io.semnet.tunnel.TimestampPersistence ownTimestamps) {
    /** Checks the builder's limits. */
    public Settings {
      if (perSourcePerSecond < 1 || perSourceBurst < 1 || perKeyPerSecond < 1 || underLoadPerSecond < 0 || verifyPerSecond <= 0) {
        throw new IllegalArgumentException("handshake limits must be positive");
      }
    }
  }

  private static final long LOAD_WINDOW_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

  private final Settings s;
  private final byte[] publicKey;
  /** This node's certificate as initiations carry it; replaced by {@link #certificate} on renewal. */
  private volatile byte[] certificateBytes;
  private final IndexTable indexes;
  private final LinkTable links;
  private final SendPath<Link> out;
  private final Drops drops;
  private final SessionListener listener;
  private final CertificateCheck certificates;
  private final Revocations revocations;
  private final io.semnet.tunnel.internal.noise.Handshake noise;
  private long loadWindowStart;
  private int loadCount;
  private int loadPrevious;

  /** A driver; {@code links} must be set with {@link #links} before use (the table needs this factory first). */
  public Handshake(Settings s, Revocations revocations, IndexTable indexes, LinkTable links, SendPath<Link> out, Drops drops,
      SessionListener listener) {
    this.s = s;
    this.revocations = revocations;
    this.indexes = indexes;
    this.links = links;
    this.out = out;
    this.drops = drops;
    this.listener = listener;
    if (s.plaintext()) {
      this.publicKey = new byte[0];
      this.certificateBytes = null;
      this.certificates = null;
      this.noise = null;
      return;
    }
    DhKeyPair identity = DhKeyPair.fromPrivate(s.privateKey());
    this.publicKey = identity.publicKey();
    this.certificateBytes = s.certificate().encode();
    this.certificates = new CertificateCheck(s.nodeId(), s.rootTrust(), revocations, s.clock(), System::nanoTime, s.verifyPerSecond());
    SourceRateLimiter perSource = new SourceRateLimiter(4096, s.perSourcePerSecond(), s.perSourceBurst(), System::nanoTime);
    SourceRateLimiter perKey = new SourceRateLimiter(4096, s.perKeyPerSecond(), Math.max(2, s.perKeyPerSecond() / 2), System::nanoTime);
    this.noise = new io.semnet.tunnel.internal.noise.Handshake(s.suite(), identity, k -> true,
        new PeerFloors(publicKey, s.ownTimestamps(), 4096), perSource, indexes::reserve, System::nanoTime, s.clock(), certificates,
        perKey);
  }

  /**
   * Presents {@code renewed} in every initiation from now on.
   *
   * @throws IllegalArgumentException see {@link #checkIdentity}
   * @throws IllegalStateException in plaintext mode
   */
  public void certificate(NodeCertificate renewed) {
    if (s.plaintext()) {
      throw new IllegalStateException("a plaintext tunnel has no certificate");
    }
    checkIdentity(renewed, s.nodeId(), publicKey, s.rootTrust());
    this.certificateBytes = renewed.encode();
  }

  /** Throws IllegalArgumentException unless {@code cert} vouches for {@code nodeId} and {@code publicKey} and is valid under {@code root} now. */
  public static void checkIdentity(NodeCertificate cert, String nodeId, byte[] publicKey, RootTrust root) {
    if (!cert.nodeId().equals(nodeId) || !Arrays.equals(cert.publicKey(), publicKey)) {
      throw new IllegalArgumentException("certificate " + cert + " does not vouch for this node's id and public key");
    }
    if (!root.verify(cert, java.time.Instant.now())) {
      throw new IllegalArgumentException("certificate " + cert + " is not valid under the configured root");
    }
  }

  /** A link for {@code peer} with its cookie generator; null if the key is unusable. */
  @Override
  public Link newLink(WorkerEndpoint peer, byte[] pub) {
    if (s.plaintext()) {
      return new Link(peer, pub, null, System.nanoTime());
    }
    if (pub.length != 32 || Arrays.equals(pub, publicKey)) {
      return null;
    }
    return new Link(peer, pub, new CookieGenerator(s.suite(), pub, System::nanoTime), System.nanoTime());
  }


  /** Closes (and counts as {@link DropReason#REVOKED}) every link the revocations refuse. Event loop only. */
  public void closeRevokedLinks() {
    for (Link l : links.all().stream().filter(revocations::refuses).toList()) {
      drops.drop(DropReason.REVOKED, l);
      links.close(l);
    }
  }

  /** Ed25519 verifications run so far (0 in plaintext mode). */
  public long verifications() {
    return certificates == null ? 0 : certificates.verifications();
  }

  /** Starts a new handshake as initiator and flushes the initiation. */
  public void start(Link link) {
    if (link.closed) {
      return;
    }
    if (revocations.refuses(link)) {
      drops.drop(DropReason.REVOKED, link);
      links.close(link);
      return;
    }
    link.helloAttempts = 0;
    sendHello(link);
    out.flushChannel();
  }

  /** Sends a new initiation (fresh ephemeral and timestamp) on {@code link}, without flushing. */
  public void sendHello(Link link) {
    cancelPending(link);
    byte[] msg;
    int index;
    io.semnet.tunnel.internal.noise.Handshake.Pending p = null;
    if (s.plaintext()) {
      index = indexes.reserve();
      byte[] id = s.nodeId().getBytes(StandardCharsets.UTF_8);
      msg = ByteBuffer.allocate(10 + id.length).put((byte) Datagram.VERSION).put((byte) Datagram.TYPE_INITIATION)
          .put((byte) Datagram.FLAG_PLAINTEXT).put((byte) 0).putInt(index).putShort((short) id.length).put(id).array();
    } else {
      p = noise.initiate(link.peerPublicKey, link.cookies, certificateBytes);
      index = p.senderIndex();
      msg = p.message();
    }
    Link.Pending entry = new Link.Pending(link, index, p);
    if (index == -1 || !indexes.put(index, entry)) {
      drops.drop(DropReason.QUEUE_FULL, link);
      return;
    }
    link.pending = entry;
    link.cookieRetried = false;
    link.helloSentNanos = System.nanoTime();
    link.helloAttempts++;
    write(link.endpoint.address(), msg, link);
  }

  private void cancelPending(Link link) {
    Link.Pending p = link.pending;
    if (p != null) {
      indexes.remove(p.index(), p);
      link.pending = null;
    }
  }

  /** Handles a handshake message (version checked, type 1–3). */
  public void onMessage(int type, ByteBuffer d, InetSocketAddress from) {
    int len = d.remaining();
    boolean plainFlag = len >= 4 && (d.get(d.position() + 2) & Datagram.FLAG_PLAINTEXT) != 0;
    if (plainFlag != s.plaintext()) {
      drops.drop(DropReason.MODE_MISMATCH);
      return;
    }
    if (len > HandshakeCodec.MAX_INITIATION_BYTES) {
      drops.drop(DropReason.MALFORMED);
      return;
    }
    if (!s.plaintext() && type != Datagram.TYPE_COOKIE_REPLY && !noise.mac1Valid(d)) {
      // Garbage and misdirected messages stop here: one HMAC, nothing copied or parsed, no X25519.
      drops.drop(DropReason.BAD_MAC1);
      return;
    }
    byte[] msg = new byte[len];
    d.get(d.position(), msg);
    if (s.plaintext()) {
      onPlain(type, msg, from);
      return;
    }
    switch (type) {
      case Datagram.TYPE_INITIATION -> onInitiation(msg, from);
      case Datagram.TYPE_RESPONSE -> onResponse(msg, from);
      default -> onCookieReply(msg);
    }
  }

  private boolean underLoad() {
    long now = System.nanoTime();
    if (now - loadWindowStart >= LOAD_WINDOW_NANOS) {
      loadPrevious = now - loadWindowStart >= 2 * LOAD_WINDOW_NANOS ? 0 : loadCount;
      loadCount = 0;
      loadWindowStart = now;
    }
    loadCount++;
    return Math.max(loadPrevious, loadCount) * (TimeUnit.SECONDS.toNanos(1) / LOAD_WINDOW_NANOS) > s.underLoadPerSecond();
  }

  private void onInitiation(byte[] msg, InetSocketAddress from) {
    io.semnet.tunnel.internal.noise.Handshake.Reply r = noise.respond(msg, from, underLoad());
    if (r.drop() != null) {
      drops.drop(reason(r.drop()));
      if (r.message() != null) {
        write(from, r.message(), null);
        out.flushChannel();
      }
      return;
    }
    SessionKeys k = r.keys();
    NodeCertificate cert = certificates.lastAccepted;
    Link existing = links.get(cert.nodeId());
    boolean sameKey = existing != null && !existing.closed && Arrays.equals(existing.peerPublicKey, k.peerStatic());
    if (existing != null && !existing.closed && !sameKey && existing.current != null
        && existing.certificate != null && cert.isOlderThan(existing.certificate)) {
      drops.drop(DropReason.OLDER_CERTIFICATE, existing);
      return;
    }
    if (sameKey && existing.handshakePending() && Arrays.compareUnsigned(publicKey, k.peerStatic()) < 0) {
      // Both sides opened at once: the side with the smaller key stays initiator, the other answers.
      return;
    }
    Link link = sameKey ? existing : links.acceptInbound(cert.nodeId(), k.peerStatic(), from);
    if (link == null) {
      drops.drop(DropReason.BAD_CERTIFICATE);
      return;
    }
    link.certificate = cert;
    installResponder(link, k.localIndex(), k.remoteIndex(), key(k.sendKey()), key(k.receiveKey()), from, r.message());
  }

  private void installResponder(Link link, int localIndex, int remoteIndex, SecretKeySpec send, SecretKeySpec recv,
      InetSocketAddress from, byte[] response) {
    Session fresh = new Session(link, link.generation + 1, localIndex, remoteIndex, send, recv, false, System.nanoTime());
    if (!indexes.put(localIndex, fresh)) {
      drops.drop(DropReason.QUEUE_FULL, link);
      return;
    }
    cancelPending(link);
    Session old = link.next;
    if (old != null) {
      indexes.remove(old.localIndex, old);
    }
    link.next = fresh;
    if (link.current == null) {
      links.moveTo(link, from); // a live link follows the peer only on confirmation (an old initiation replayed elsewhere must not move it)
    }
    write(from, response, link);
    out.flushChannel();
  }

  private SecretKeySpec key(byte[] k) {
    return new SecretKeySpec(k, s.suite().keyAlgorithm());
  }

  private Link.Pending pendingAt(byte[] msg, int offset) {
    if (msg.length < offset + 4) {
      return null;
    }
    int index = ByteBuffer.wrap(msg).getInt(offset);
    IndexTable.Entry e = indexes.get(index);
    if (e instanceof Link.Pending p && p.link().pending == p && !p.link().closed) {
      return p;
    }
    return null;
  }

  private void onResponse(byte[] msg, InetSocketAddress from) {
    Link.Pending p = pendingAt(msg, 8);
    if (p == null) {
      drops.drop(msg.length == HandshakeCodec.RESPONSE_BYTES ? DropReason.STALE_KEY : DropReason.MALFORMED);
      return;
    }
    long[] before = dropCounts();
    SessionKeys k = noise.complete(p.noise(), msg);
    if (k == null) {
      drops.drop(reason(changedDrop(before)), p.link());
      return;
    }
    installInitiator(p, k.remoteIndex(), key(k.sendKey()), key(k.receiveKey()), from);
  }

  private void installInitiator(Link.Pending p, int remoteIndex, SecretKeySpec send, SecretKeySpec recv, InetSocketAddress from) {
    Link link = p.link();
    link.generation++;
    Session fresh = new Session(link, link.generation, p.index(), remoteIndex, send, recv, true, System.nanoTime());
    indexes.put(p.index(), fresh);
    link.pending = null;
    link.install(fresh, indexes);
    link.helloAttempts = 0;
    link.rxPackets.incrementAndGet();
    links.moveTo(link, from);
    listener.established(link, true);
  }

  private void onCookieReply(byte[] msg) {
    Link.Pending p = pendingAt(msg, 4);
    if (p == null || !noise.acceptCookieReply(p.noise(), msg)) {
      drops.drop(DropReason.STALE_KEY);
      return;
    }
    Link link = p.link();
    if (!link.cookieRetried) {
      // Under load the responder wants mac2: resend this initiation with it at once (once per initiation).
      link.cookieRetried = true;
      write(link.endpoint.address(), p.noise().restamp(), link);
      out.flushChannel();
    }
  }

  private void onPlain(int type, byte[] msg, InetSocketAddress from) {
    ByteBuffer b = ByteBuffer.wrap(msg);
    if (type == Datagram.TYPE_INITIATION && msg.length >= 10 && msg.length == 10 + (b.getShort(8) & 0xffff)) {
      String peerId = new String(msg, 10, msg.length - 10, StandardCharsets.UTF_8);
      if (peerId.isEmpty() || peerId.equals(s.nodeId())) {
        drops.drop(DropReason.MALFORMED);
        return;
      }
      Link existing = links.get(peerId);
      if (existing != null && existing.handshakePending() && s.nodeId().compareTo(peerId) < 0) {
        return;
      }
      Link link = existing != null && !existing.closed ? existing : links.acceptInbound(peerId, new byte[0], from);
      int index = link == null ? -1 : indexes.reserve();
      if (index == -1) {
        drops.drop(DropReason.QUEUE_FULL);
        return;
      }
      byte[] resp = ByteBuffer.allocate(12).put((byte) Datagram.VERSION).put((byte) Datagram.TYPE_RESPONSE)
          .put((byte) Datagram.FLAG_PLAINTEXT).put((byte) 0).putInt(index).putInt(b.getInt(4)).array();
      installResponder(link, index, b.getInt(4), null, null, from, resp);
    } else if (type == Datagram.TYPE_RESPONSE && msg.length == 12) {
      Link.Pending p = pendingAt(msg, 8);
      if (p == null) {
        drops.drop(DropReason.STALE_KEY);
        return;
      }
      installInitiator(p, b.getInt(4), null, null, from);
    } else {
      drops.drop(DropReason.MALFORMED);
    }
  }

  private void write(InetSocketAddress to, byte[] msg, Link link) {
    ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(msg.length).writeBytes(msg);
    if (link != null) {
      link.txPackets.incrementAndGet();
    }
    out.writeOnLoop(buf, to);
  }

  private long[] dropCounts() {
    io.semnet.tunnel.internal.noise.Handshake.Drop[] all = io.semnet.tunnel.internal.noise.Handshake.Drop.values();
    long[] c = new long[all.length];
    for (int i = 0; i < all.length; i++) {
      c[i] = noise.dropped(all[i]);
    }
    return c;
  }

  private io.semnet.tunnel.internal.noise.Handshake.Drop changedDrop(long[] before) {
    io.semnet.tunnel.internal.noise.Handshake.Drop[] all = io.semnet.tunnel.internal.noise.Handshake.Drop.values();
    for (int i = 0; i < all.length; i++) {
      if (noise.dropped(all[i]) != before[i]) {
        return all[i];
      }
    }
    return io.semnet.tunnel.internal.noise.Handshake.Drop.BAD_HANDSHAKE;
  }

  /** The tunnel's reason for a handshake refusal. */
  static DropReason reason(io.semnet.tunnel.internal.noise.Handshake.Drop d) {
    return switch (d) {
      case MALFORMED -> DropReason.MALFORMED;
      case BAD_MAC1 -> DropReason.BAD_MAC1;
      case COOKIE_REQUIRED -> DropReason.COOKIE_REQUIRED;
      case RATE_LIMITED -> DropReason.RATE_LIMITED;
      case UNKNOWN_PEER, BAD_CERTIFICATE -> DropReason.BAD_CERTIFICATE;
      case BAD_HANDSHAKE -> DropReason.AUTH_FAILED;
      case REPLAYED_TIMESTAMP -> DropReason.REPLAYED;
      case UNEXPECTED -> DropReason.STALE_KEY;
      case REVOKED -> DropReason.REVOKED;
      case VERIFY_LIMITED -> DropReason.VERIFY_LIMITED;
      case KEY_RATE_LIMITED -> DropReason.KEY_RATE_LIMITED;
    };
  }
}
