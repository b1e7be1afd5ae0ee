package io.semnet.tunnel.internal.noise;

import io.semnet.tunnel.CipherSuite;
import io.semnet.tunnel.internal.noise.HandshakeCodec.CookieReply;
import io.semnet.tunnel.internal.noise.HandshakeCodec.Initiation;
import io.semnet.tunnel.internal.noise.HandshakeCodec.Parsed;
import io.semnet.tunnel.internal.noise.HandshakeCodec.Response;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The SemNet handshake of one node, both roles: Noise IK ({@link HandshakeState}) carried in the
 * WireGuard-like messages of {@link HandshakeCodec}. As initiator it builds an initiation
 * ({@link #initiate}) and completes it with the response ({@link #complete}); as responder it
 * answers initiations ({@link #respond}). Either way a completed handshake yields
 * {@link SessionKeys}.
 *
 * <p>Guarantees of the responder, in the order they are checked: an initiation with a bad mac1 is
 * dropped before any X25519; under load (the caller's call) one without a valid mac2 for its source
 * is answered with a cookie reply and nothing else; then a per-source token bucket; then Noise: an
 * initiator static key the directory does not know is refused right after it is decrypted (one
 * X25519 spent), and an initiation whose timestamp is not newer than the last accepted from that key
 * is refused as a replay. No per-peer state is created for any refused message. Every refusal is
 * counted ({@link #dropped}), and so is every X25519 ({@link #x25519Operations}).
 *
 * <p>Fresh ephemeral keys on both sides make every handshake's keys new, even between the same two
 * static keys. Thread-safe: concurrent calls share only the thread-safe helpers and counters; a
 * {@link Pending} belongs to one caller.
 */
public final class Handshake {
  /** Prologue mixed into every SemNet handshake: binds it to this protocol and version. */
  public static final byte[] PROLOGUE = "SemNet tunnel handshake v2".getBytes(StandardCharsets.US_ASCII);

  /** Why a message was refused. */
  public enum Drop {
    /** Not a well-formed handshake message of the expected type. */
    MALFORMED,
    /** mac1 does not match this node's key (garbage, or meant for another node). */
    BAD_MAC1,
    /** Under load without a valid mac2: answered with a cookie reply. */
    COOKIE_REQUIRED,
    /** The source's token bucket is empty. */
    RATE_LIMITED,
    /** The initiator's static key is not a known peer. */
    UNKNOWN_PEER,
    /** Noise decryption failed or a key was degenerate. */
    BAD_HANDSHAKE,
    /** The initiation's timestamp is not newer than the last accepted one from that key. */
    REPLAYED_TIMESTAMP,
    /** A response or cookie reply that matches no pending initiation. */
    UNEXPECTED,
    /** The payload check refused the initiator's extra payload (e.g. its certificate). */
    BAD_CERTIFICATE,
    /** The payload check refused the initiator as revoked. */
    REVOKED,
    /** The payload check could not afford a signature verification now (bounded per second). */
    VERIFY_LIMITED,
    /** The initiator's static key's token bucket is empty (checked after the replay check). */
    KEY_RATE_LIMITED
  }

  /** The responder's check of what an initiation carries after its timestamp; null accepts. */
  @FunctionalInterface
  public interface PayloadCheck {
    /** @return null to accept the initiator's {@code peerStatic} key with {@code extra}, else why not */
    Drop check(byte[] peerStatic, byte[] extra);
  }

  private final CipherSuite suite;
  private final DhKeyPair identity;
  private final Predicate<byte[]> knownPeers;
  private final TimestampFloor floor;
  private final TimestampClock timestamps;
  private final SourceRateLimiter limiter;
  private final CookieChecker cookies;
  private final IntSupplier indexes;
  private final LongSupplier nanoClock;
  private final PayloadCheck payloadCheck;
  private final SourceRateLimiter keyLimiter;
  private final Map<Drop, LongAdder> drops = new EnumMap<>(Drop.class);
  private final LongAdder x25519 = new LongAdder();

  /**
   * A node's handshake. {@code knownPeers} says whether a static public key belongs to an
   * authorised peer; {@code store} persists both replay floors and this node's issued timestamps;
   * {@code indexes} hands out this node's receiver indexes (the caller keeps them unique);
   * {@code nanoClock} and {@code wallClock} drive expiry/cookies and timestamps.
   */
  public Handshake(CipherSuite suite, DhKeyPair identity, Predicate<byte[]> knownPeers, TimestampStore store, SourceRateLimiter limiter,
      IntSupplier indexes, LongSupplier nanoClock, Clock wallClock) {
    this(suite, identity, knownPeers, store, limiter, indexes, nanoClock, wallClock, (k, extra) -> extra.length == 0 ? null
        : Drop.BAD_HANDSHAKE, null);
  }

  /**
   * A node's handshake whose initiations carry an extra payload after the timestamp, checked by
   * {@code payloadCheck} once the initiation authenticated and before the replay floor moves;
   * {@code keyLimiter} (may be null) then limits accepted initiations per initiator static key.
   */
  public Handshake(CipherSuite suite, DhKeyPair identity, Predicate<byte[]> knownPeers, TimestampStore store, SourceRateLimiter limiter,
      IntSupplier indexes, LongSupplier nanoClock, Clock wallClock, PayloadCheck payloadCheck, SourceRateLimiter keyLimiter) {
    this.payloadCheck = payloadCheck;
    this.keyLimiter = keyLimiter;
    this.suite = suite;
    this.identity = identity;
    this.knownPeers = knownPeers;
    this.floor = new TimestampFloor(store);
    this.timestamps = new TimestampClock(wallClock, store, identity.publicKeyUnsafe());
    this.limiter = limiter;
    this.cookies = new CookieChecker(suite, identity.publicKeyUnsafe(), nanoClock, new SecureRandom());
    this.indexes = indexes;
    this.nanoClock = nanoClock;
    for (Drop d : Drop.values()) {
      drops.put(d, new LongAdder());
    }
  }

  /** A cookie generator for messages to {@code peerStatic}; keep one per peer across handshakes. */
  public CookieGenerator cookieGenerator(byte[] peerStatic) {
    return new CookieGenerator(suite, peerStatic, nanoClock);
  }

  /** An initiation in flight: its wire message and what is needed to complete it. Single owner. */
  public static final class Pending {
    private final HandshakeState noise;
    private final int senderIndex;
    private final byte[] peerStatic;
    private final CookieGenerator cookies;
    private final byte[] message;
    private boolean done;

    private Pending(HandshakeState noise, int senderIndex, byte[] peerStatic, CookieGenerator cookies, byte[] message) {
      this.noise = noise;
      this.senderIndex = senderIndex;
      this.peerStatic = peerStatic;
      this.cookies = cookies;
      this.message = message;
    }

    /** The initiation to send (a copy). */
    public byte[] message() {
      return message.clone();
    }

    /** This side's index, which the response must carry as its receiver index. */
    public int senderIndex() {
      return senderIndex;
    }

    /** The initiation stamped again (mac2 from a cookie received since), as a copy to resend. */
    public byte[] restamp() {
      cookies.stamp(message);
      return message.clone();
    }

    /** Whether a cookie from the peer is held (the next stamp carries mac2). */
    public boolean hasCookie() {
      return cookies.hasFreshCookie();
    }
  }

  /** Starts a handshake with {@code peerStatic}, stamping macs with {@code cookies} (that peer's generator). */
  public Pending initiate(byte[] peerStatic, CookieGenerator cookies) {
    return initiate(peerStatic, cookies, new byte[0]);
  }

  /** Starts a handshake whose encrypted payload carries {@code extra} after the timestamp (at most {@link HandshakeCodec#MAX_EXTRA_PAYLOAD_BYTES}). */
  public Pending initiate(byte[] peerStatic, CookieGenerator cookies, byte[] extra) {
    HandshakeState hs = HandshakeState.initiator(suite, PROLOGUE, identity, peerStatic, null).onDh(x25519::increment);
    int index = indexes.getAsInt();
    byte[] payload = HandshakeCodec.concat(timestamps.next().encode(), extra);
    byte[] msg = HandshakeCodec.serialize(Initiation.of(index, hs.writeMessage(payload)));
    cookies.stamp(msg);
    return new Pending(hs, index, peerStatic.clone(), cookies, msg);
  }

  /** The responder's answer to a datagram: a response with keys, a cookie reply, or a counted drop. */
  public record Reply(byte[] message, SessionKeys keys, Drop drop, byte[] extra) {
    /** Copies the arrays. */
    public Reply {
      message = message == null ? null : message.clone();
      extra = extra == null ? null : extra.clone();
    }

    @Override
    public byte[] message() {
      return message == null ? null : message.clone();
    }

    /** The initiator's payload after the timestamp (accepted by the payload check), or null. */
    @Override
    public byte[] extra() {
      return extra == null ? null : extra.clone();
    }
  }

  /** Handles an initiation {@code msg} from {@code source}; {@code underLoad} demands mac2. */
  public Reply respond(byte[] msg, InetSocketAddress source, boolean underLoad) {
    Parsed p = HandshakeCodec.parse(msg, 0, msg.length);
    if (!(p.message() instanceof Initiation init)) {
      return drop(Drop.MALFORMED);
    }
    if (!cookies.mac1Valid(msg)) {
      return drop(Drop.BAD_MAC1);
    }
    if (underLoad && !cookies.mac2Valid(msg, source)) {
      count(Drop.COOKIE_REQUIRED);
      return new Reply(cookies.cookieReply(msg, init.senderIndex(), source), null, Drop.COOKIE_REQUIRED, null);
    }
    if (!limiter.allow(source.getAddress())) {
      return drop(Drop.RATE_LIMITED);
    }
    boolean[] unknown = {false};
    HandshakeState hs = HandshakeState.responder(suite, PROLOGUE, identity, null).onDh(x25519::increment).acceptRemoteStatic(k -> {
      boolean ok = !Arrays.equals(k, identity.publicKeyUnsafe()) && knownPeers.test(k);
      unknown[0] = !ok;
      return ok;
    });
    byte[] payload = hs.readMessage(init.noise());
    if (payload == null) {
      return drop(unknown[0] ? Drop.UNKNOWN_PEER : Drop.BAD_HANDSHAKE);
    }
    Tai64n ts = payload.length < Tai64n.BYTES ? null : Tai64n.decode(Arrays.copyOf(payload, Tai64n.BYTES));
    byte[] peer = hs.remoteStatic();
    if (ts == null) {
      return drop(Drop.BAD_HANDSHAKE);
    }
    byte[] extra = Arrays.copyOfRange(payload, Tai64n.BYTES, payload.length);
    Drop refused = payloadCheck.check(peer, extra);
    if (refused != null) {
      return drop(refused);
    }
    if (!floor.tryAdvance(peer, ts)) {
      return drop(Drop.REPLAYED_TIMESTAMP);
    }
    if (keyLimiter != null && !keyLimiter.allowKey(peer)) {
      return drop(Drop.KEY_RATE_LIMITED);
    }
    int index = indexes.getAsInt();
    byte[] out = HandshakeCodec.serialize(Response.of(index, init.senderIndex(), hs.writeMessage(new byte[0])));
    new CookieGenerator(suite, peer, nanoClock).stamp(out);
    CipherState[] cs = hs.split();
    SessionKeys keys = new SessionKeys(suite, false, index, init.senderIndex(), cs[1].keyBytes(), cs[0].keyBytes(), peer,
        hs.handshakeHash(), nanoClock.getAsLong());
    return new Reply(out, keys, null, extra);
  }

  /** Completes {@code pending} with a response {@code msg}: the session keys, or null (counted) if refused. */
  public SessionKeys complete(Pending pending, byte[] msg) {
    Parsed p = HandshakeCodec.parse(msg, 0, msg.length);
    if (!(p.message() instanceof Response resp)) {
      return dropNull(Drop.MALFORMED);
    }
    if (resp.receiverIndex() != pending.senderIndex) {
      return dropNull(Drop.UNEXPECTED);
    }
    if (!cookies.mac1Valid(msg)) {
      return dropNull(Drop.BAD_MAC1);
    }
    byte[] payload;
    synchronized (pending) {
      if (pending.done) {
        return dropNull(Drop.UNEXPECTED);
      }
      payload = pending.noise.readMessage(resp.noise());
      pending.done = true; // one response per initiation, whatever its fate (the Noise state is spent)
    }
    if (payload == null || payload.length != 0) {
      return dropNull(Drop.BAD_HANDSHAKE);
    }
    CipherState[] cs = pending.noise.split();
    return new SessionKeys(suite, true, pending.senderIndex, resp.senderIndex(), cs[0].keyBytes(), cs[1].keyBytes(), pending.peerStatic,
        pending.noise.handshakeHash(), nanoClock.getAsLong());
  }

  /** Takes a cookie reply to {@code pending} into its peer's generator; the next initiation carries mac2. */
  public boolean acceptCookieReply(Pending pending, byte[] msg) {
    Parsed p = HandshakeCodec.parse(msg, 0, msg.length);
    if (!(p.message() instanceof CookieReply reply)) {
      count(Drop.MALFORMED);
      return false;
    }
    if (reply.receiverIndex() != pending.senderIndex || !pending.cookies.consume(reply)) {
      count(Drop.UNEXPECTED);
      return false;
    }
    return true;
  }

  /** Whether a handshake message (position to limit) carries this node's mac1: the check before anything is copied or parsed. */
  public boolean mac1Valid(java.nio.ByteBuffer msg) {
    return cookies.mac1Valid(msg);
  }

  /** How many messages were refused for {@code reason}. */
  public long dropped(Drop reason) {
    return drops.get(reason).sum();
  }

  /** How many X25519 agreements this node's handshakes have run. */
  public long x25519Operations() {
    return x25519.sum();
  }

  private void count(Drop d) {
    drops.get(d).increment();
  }

  private Reply drop(Drop d) {
    count(d);
    return new Reply(null, null, d, null);
  }

  private SessionKeys dropNull(Drop d) {
    count(d);
    return null;
  }
}
