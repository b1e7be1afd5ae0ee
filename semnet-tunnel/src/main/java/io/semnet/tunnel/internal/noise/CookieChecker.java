package io.semnet.tunnel.internal.noise;

import io.semnet.tunnel.CipherSuite;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The receiving side of mac1/mac2 (WireGuard's cookie scheme, with SHA-256): checks mac1 of
 * incoming handshake messages with this node's key (a MAC, no asymmetric work), and under load
 * checks mac2, a MAC keyed with the cookie {@code MAC(secret, source IP || source port)} where the
 * 32-byte secret is random and replaced every {@link #SECRET_LIFETIME_NANOS}. A sender without a
 * valid mac2 gets a cookie reply instead, which proves it owns its source address on the retry.
 * Holds no per-source state. Thread-safe.
 */
public final class CookieChecker {
  /** How long a cookie secret (and so a cookie) is valid: 2 minutes. */
  public static final long SECRET_LIFETIME_NANOS = TimeUnit.MINUTES.toNanos(2);

  private final CipherSuite suite;
  private final byte[] mac1Key;
  private final byte[] cookieKey;
  private final LongSupplier nanoClock;
  private final SecureRandom random;
  private final byte[] secret = new byte[32];
  private long secretBornNanos;
  private boolean hasSecret;

  /** A checker for a node whose static public key is {@code localStaticPublic}. */
  public CookieChecker(CipherSuite suite, byte[] localStaticPublic, LongSupplier nanoClock, SecureRandom random) {
    this.suite = suite;
    this.mac1Key = Macs.mac1Key(localStaticPublic);
    this.cookieKey = Macs.cookieKey(localStaticPublic);
    this.nanoClock = nanoClock;
    this.random = random;
  }

  /** Whether the handshake message {@code msg} (position to limit; not consumed) carries a valid mac1; no copy of the message is made. */
  public boolean mac1Valid(java.nio.ByteBuffer msg) {
    int len = msg.remaining();
    if (len < 2 * HandshakeCodec.MAC_BYTES) {
      return false;
    }
    int m1 = Macs.mac1Offset(len);
    javax.crypto.Mac mac = io.semnet.tunnel.internal.Kdf.mac(mac1Key);
    mac.update(msg.duplicate().limit(msg.position() + m1));
    byte[] expected = mac.doFinal();
    int acc = 0;
    for (int i = 0; i < HandshakeCodec.MAC_BYTES; i++) {
      acc |= expected[i] ^ msg.get(msg.position() + m1 + i);
    }
    return acc == 0;
  }

  /** Whether {@code msg} (a whole initiation or response) carries a valid mac1. */
  public boolean mac1Valid(byte[] msg) {
    return msg.length >= 2 * HandshakeCodec.MAC_BYTES && Macs.verify(mac1Key, msg, Macs.mac1Offset(msg.length));
  }

  /** Whether {@code msg} carries a valid mac2 for a cookie given to {@code source} under the current secret. */
  public boolean mac2Valid(byte[] msg, InetSocketAddress source) {
    return msg.length >= 2 * HandshakeCodec.MAC_BYTES && Macs.verify(cookie(source), msg, Macs.mac2Offset(msg.length));
  }

  /** The cookie reply to {@code msg} (whose sender index is {@code senderIndex}) from {@code source}. */
  public byte[] cookieReply(byte[] msg, int senderIndex, InetSocketAddress source) {
    byte[] nonce = new byte[HandshakeCodec.COOKIE_NONCE_BYTES];
    random.nextBytes(nonce);
    byte[] mac1 = Arrays.copyOfRange(msg, Macs.mac1Offset(msg.length), Macs.mac2Offset(msg.length));
    byte[] sealed = Macs.seal(suite, cookieKey, nonce, mac1, cookie(source));
    return HandshakeCodec.serialize(new HandshakeCodec.CookieReply(senderIndex, nonce, sealed));
  }

  private synchronized byte[] cookie(InetSocketAddress source) {
    long now = nanoClock.getAsLong();
    if (!hasSecret || now - secretBornNanos >= SECRET_LIFETIME_NANOS) {
      random.nextBytes(secret);
      secretBornNanos = now;
      hasSecret = true;
    }
    byte[] ip = source.getAddress().getAddress();
    byte[] addr = new byte[ip.length + 2];
    System.arraycopy(ip, 0, addr, 0, ip.length);
    addr[ip.length] = (byte) (source.getPort() >>> 8);
    addr[ip.length + 1] = (byte) source.getPort();
    return Macs.mac(secret, addr, addr.length);
  }
}
