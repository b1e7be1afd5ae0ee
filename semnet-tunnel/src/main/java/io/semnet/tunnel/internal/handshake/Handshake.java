package io.semnet.tunnel.internal.handshake;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.trust.NodeCertificate;
import io.semnet.core.trust.RootTrust;
import io.semnet.tunnel.CipherSuite;
import io.semnet.tunnel.DropReason;
import io.semnet.tunnel.internal.Aead;
import io.semnet.tunnel.internal.Datagram;
import io.semnet.tunnel.internal.X25519;
import io.semnet.tunnel.internal.conn.SendPath;
import io.semnet.tunnel.internal.link.Drops;
import io.semnet.tunnel.internal.link.Link;
import io.semnet.tunnel.internal.link.LinkTable;
import io.semnet.tunnel.internal.link.Session;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Instant;
import java.util.Arrays;
import javax.crypto.SecretKey;

/**
 * The first-contact handshake (README, "Key design"): the initiator's first contact and its
 * retries, the responder's checks (certificate against the root, rate limit, freshness, replay)
 * and reply, and the session switch on both sides. A first contact creates link state only once
 * it authenticated; nothing is ever sent in answer to a bad one. Event loop only.
 */
public final class Handshake {
  private static final int HELLO_SEALED_BYTES = 32 + 8;
  private static final int ACK_SEALED_BYTES = 32 + 4 + 8;

  /** This node's identity (raw public key: null in plaintext mode) and the handshake's settings. */
  public record Settings(String nodeId, byte[] publicKey, NodeCertificate certificate, RootTrust rootTrust, CipherSuite suite,
      boolean plaintext, long freshnessMillis, double firstContactsPerSecond) {}

  private final String nodeId;
  private final byte[] publicKey;
  private final byte[] certificateBytes;
  private final RootTrust rootTrust;
  private final CipherSuite suite;
  private final boolean plaintext;
  private final long helloFreshnessMillis;
  private final double helloRatePerSecond;
  private final int epoch;
  private final HandshakeKeys hsKeys;
  private final LinkTable links;
  private final SendPath<Link> out;
  private final Drops drops;
  private final SessionListener listener;
  private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
  private double helloTokens;
  private long helloTokensAt;

  public Handshake(Settings s, int epoch, HandshakeKeys hsKeys, LinkTable links, SendPath<Link> out, Drops drops, SessionListener listener) {
    this.nodeId = s.nodeId();
    this.publicKey = s.publicKey();
    this.certificateBytes = s.certificate() == null ? null : s.certificate().encode();
    this.rootTrust = s.rootTrust();
    this.suite = s.suite();
    this.plaintext = s.plaintext();
    this.helloFreshnessMillis = s.freshnessMillis();
    this.helloRatePerSecond = s.firstContactsPerSecond();
    this.epoch = epoch;
    this.hsKeys = hsKeys;
    this.links = links;
    this.out = out;
    this.drops = drops;
    this.listener = listener;
    this.helloTokens = helloRatePerSecond;
    this.helloTokensAt = System.nanoTime();
  }

  /** Starts a new handshake (new key id, fresh ephemeral key) as initiator and flushes the first contact. */
  public void start(Link link) {
    if (link.closed) {
      return;
    }
    Session c = link.current;
    link.pendingKeyId = c == null ? 0 : (c.keyId + 1) & 0xff;
    if (!plaintext) {
      KeyPair eph = HandshakeKeys.ephemeral();
      link.ephPrivate = eph.getPrivate();
      link.ephPublic = X25519.rawPublic(eph.getPublic());
    }
    link.helloAttempts = 0;
    sendHello(link);
    out.flushChannel();
  }

  /** Sends (or resends) the pending handshake's first contact, without flushing. */
  public void sendHello(Link link) {
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
    ByteBuffer sealed = ByteBuffer.allocate(aad.length + HELLO_SEALED_BYTES + Aead.TAG_BYTES);
    sealed.put(aad);
    Aead.forThread(suite).seal(link.hsSendKey, epoch, ctr, aad, aad.length, plain, sealed);
    sealed.flip();
    writeRaw(link, alloc.directBuffer(sealed.remaining()).writeBytes(sealed));
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
    ByteBuffer sealed = ByteBuffer.allocate(h.length + ACK_SEALED_BYTES + Aead.TAG_BYTES);
    sealed.put(h);
    Aead.forThread(suite).seal(link.hsSendKey, epoch, ctr, h, h.length, plain, sealed);
    sealed.flip();
    writeRaw(link, alloc.directBuffer(sealed.remaining()).writeBytes(sealed));
  }

  /** Writes a handshake datagram built by the caller. */
  private void writeRaw(Link link, ByteBuf buf) {
    link.txPackets.incrementAndGet();
    out.writeOnLoop(buf, link.endpoint.address());
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

  /** Handles a first contact (type, version and flags already checked). */
  public void onFirstContact(ByteBuffer d, InetSocketAddress from) {
    int base = d.position();
    int len = d.remaining();
    int keyId = Datagram.keyId(d);
    int peerEpoch = Datagram.epoch(d);
    long counter = Datagram.counter(d);
    if (len < Datagram.HEADER_BYTES + 2) {
      drops.drop(DropReason.TRUNCATED);
      return;
    }
    int bodyLen = d.getShort(base + Datagram.HEADER_BYTES) & 0xffff;
    int sealedLen = plaintext ? 0 : HELLO_SEALED_BYTES + Aead.TAG_BYTES;
    if (len != Datagram.HEADER_BYTES + 2 + bodyLen + sealedLen) {
      drops.drop(DropReason.TRUNCATED);
      return;
    }
    byte[] body = new byte[bodyLen];
    d.get(base + Datagram.HEADER_BYTES + 2, body);
    if (plaintext) {
      String peerId = new String(body, StandardCharsets.UTF_8);
      if (peerId.isEmpty() || peerId.equals(nodeId)) {
        drops.drop(DropReason.MALFORMED);
        return;
      }
      Link link = links.acceptInbound(peerId, new byte[0], from, null);
      if (link == null) {
        return;
      }
      establishResponder(link, keyId, peerEpoch, counter, null, null, null);
      links.moveTo(link, from);
      return;
    }
    if (!helloToken()) {
      drops.drop(DropReason.RATE_LIMITED);
      return;
    }
    NodeCertificate cert;
    try {
      cert = NodeCertificate.decode(body);
    } catch (IllegalArgumentException e) {
      drops.drop(DropReason.BAD_CERTIFICATE);
      return;
    }
    byte[] pub = cert.publicKey();
    if (cert.nodeId().equals(nodeId) || pub.length != 32 || !rootTrust.verify(cert, Instant.now())) {
      drops.drop(DropReason.BAD_CERTIFICATE);
      return;
    }
    Link existing = links.get(cert.nodeId());
    boolean sameKey = existing != null && !existing.closed && Arrays.equals(existing.peerPublicKey, pub);
    Link keysFrom = sameKey ? existing : hsKeys.newLink(WorkerEndpoint.of(cert.nodeId(), from, pub), pub);
    if (keysFrom == null) {
      drops.drop(DropReason.BAD_CERTIFICATE);
      return;
    }
    byte[] aad = new byte[Datagram.HEADER_BYTES + 2 + bodyLen];
    d.get(base, aad);
    ByteBuffer in = d.duplicate().position(base + aad.length);
    ByteBuffer plain = ByteBuffer.allocate(HELLO_SEALED_BYTES + Aead.TAG_BYTES);
    if (Aead.forThread(suite).open(keysFrom.hsRecvKey, peerEpoch, counter, aad, aad.length, in, plain) != HELLO_SEALED_BYTES) {
      drops.drop(DropReason.AUTH_FAILED);
      return;
    }
    plain.flip();
    byte[] ephPeer = new byte[32];
    plain.get(ephPeer);
    long sentMillis = plain.getLong();
    if (Math.abs(System.currentTimeMillis() - sentMillis) > helloFreshnessMillis) {
      drops.drop(DropReason.REPLAYED);
      return;
    }
    if (sameKey && !newer(peerEpoch, counter, existing.lastHelloEpoch, existing.lastHelloCounter)) {
      drops.drop(DropReason.REPLAYED, existing);
      return;
    }
    if (sameKey && existing.handshakePending() && Arrays.compareUnsigned(publicKey, pub) < 0) {
      // Both sides opened at once: the side with the smaller key stays initiator, the other answers.
      existing.lastHelloEpoch = peerEpoch;
      existing.lastHelloCounter = counter;
      return;
    }
    KeyPair eph = HandshakeKeys.ephemeral();
    byte[] ephMine = X25519.rawPublic(eph.getPublic());
    byte[] dh = HandshakeKeys.agreeEphemeral(eph.getPrivate(), ephPeer);
    if (dh == null) {
      drops.drop(DropReason.AUTH_FAILED);
      return;
    }
    Link link = sameKey ? existing : links.acceptInbound(cert.nodeId(), pub, from, keysFrom);
    if (link == null) {
      return;
    }
    byte[][] k = HandshakeKeys.sessionKeys(link.prk0, dh, ephPeer, ephMine, keyId, peerEpoch, epoch);
    establishResponder(link, keyId, peerEpoch, counter, ephMine, hsKeys.aeadKey(k[1]), hsKeys.aeadKey(k[0]));
    links.moveTo(link, from);
  }

  private static boolean newer(int epochA, long counterA, int epochB, long counterB) {
    if (counterB < 0) {
      return true;
    }
    int c = Integer.compareUnsigned(epochA, epochB);
    return c > 0 || (c == 0 && Long.compareUnsigned(counterA, counterB) > 0);
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
    listener.established(link, false);
  }

  /** Handles a first-contact reply from a link's peer (type, version and flags already checked). */
  public void onReply(Link link, ByteBuffer d) {
    int keyId = Datagram.keyId(d);
    int peerEpoch = Datagram.epoch(d);
    long counter = Datagram.counter(d);
    if (!link.handshakePending() || keyId != link.pendingKeyId) {
      drops.drop(DropReason.STALE_KEY, link);
      return;
    }
    SecretKey send = null;
    SecretKey recv = null;
    int echoEpoch;
    long echoCounter;
    if (plaintext) {
      if (d.remaining() != Datagram.HEADER_BYTES + 12) {
        drops.drop(DropReason.TRUNCATED, link);
        return;
      }
      echoEpoch = d.getInt(d.position() + Datagram.HEADER_BYTES);
      echoCounter = d.getLong(d.position() + Datagram.HEADER_BYTES + 4);
      if (echoEpoch != epoch || echoCounter != link.helloCounter) {
        drops.drop(DropReason.REPLAYED, link);
        return;
      }
    } else {
      if (d.remaining() != Datagram.HEADER_BYTES + ACK_SEALED_BYTES + Aead.TAG_BYTES) {
        drops.drop(DropReason.TRUNCATED, link);
        return;
      }
      byte[] h = new byte[Datagram.HEADER_BYTES];
      d.get(d.position(), h);
      ByteBuffer in = d.duplicate().position(d.position() + Datagram.HEADER_BYTES);
      ByteBuffer plain = ByteBuffer.allocate(ACK_SEALED_BYTES + Aead.TAG_BYTES);
      if (Aead.forThread(suite).open(link.hsRecvKey, peerEpoch, counter, h, h.length, in, plain) != ACK_SEALED_BYTES) {
        drops.drop(DropReason.AUTH_FAILED, link);
        return;
      }
      plain.flip();
      byte[] ephPeer = new byte[32];
      plain.get(ephPeer);
      echoEpoch = plain.getInt();
      echoCounter = plain.getLong();
      if (echoEpoch != epoch || echoCounter != link.helloCounter) {
        drops.drop(DropReason.REPLAYED, link);
        return;
      }
      byte[] dh = HandshakeKeys.agreeEphemeral(link.ephPrivate, ephPeer);
      if (dh == null) {
        drops.drop(DropReason.AUTH_FAILED, link);
        return;
      }
      byte[][] k = HandshakeKeys.sessionKeys(link.prk0, dh, link.ephPublic, ephPeer, keyId, epoch, peerEpoch);
      send = hsKeys.aeadKey(k[0]);
      recv = hsKeys.aeadKey(k[1]);
    }
    Session cur = link.current;
    link.previous = cur != null && cur.peerEpoch == peerEpoch && !plaintext ? cur : null;
    link.current = new Session(keyId, peerEpoch, send, recv, true, System.nanoTime(), true);
    link.pendingKeyId = -1;
    link.ephPrivate = null;
    link.helloAttempts = 0;
    link.rxPackets.incrementAndGet();
    listener.established(link, true);
  }
}
