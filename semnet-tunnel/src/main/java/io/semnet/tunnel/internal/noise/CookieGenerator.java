package io.semnet.tunnel.internal.noise;

import io.semnet.tunnel.CipherSuite;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The sending side of mac1/mac2 towards one peer: stamps mac1 (keyed with the peer's static
 * public key) on every handshake message, and mac2 while it holds a cookie from that peer younger
 * than {@link #COOKIE_LIFETIME_NANOS} (zeros otherwise). Accepts a cookie reply only if it opens
 * with mac1 of the last message stamped as associated data. Thread-safe.
 */
public final class CookieGenerator {
  /** A received cookie is used for this long: 2 minutes less a margin for the peer's secret rotation. */
  public static final long COOKIE_LIFETIME_NANOS = TimeUnit.SECONDS.toNanos(120 - 5);

  private final CipherSuite suite;
  private final byte[] mac1Key;
  private final byte[] cookieKey;
  private final LongSupplier nanoClock;
  private byte[] lastMac1;
  private byte[] cookie;
  private long cookieNanos;

  /** A generator for messages to the peer with static public key {@code peerStaticPublic}. */
  public CookieGenerator(CipherSuite suite, byte[] peerStaticPublic, LongSupplier nanoClock) {
    this.suite = suite;
    this.mac1Key = Macs.mac1Key(peerStaticPublic);
    this.cookieKey = Macs.cookieKey(peerStaticPublic);
    this.nanoClock = nanoClock;
  }

  /** Writes mac1 and mac2 into the last 32 bytes of {@code msg} (a serialized initiation or response). */
  public synchronized void stamp(byte[] msg) {
    int m1 = Macs.mac1Offset(msg.length);
    int m2 = Macs.mac2Offset(msg.length);
    byte[] mac1 = Macs.mac(mac1Key, msg, m1);
    System.arraycopy(mac1, 0, msg, m1, mac1.length);
    lastMac1 = mac1;
    byte[] mac2 = hasFreshCookie() ? Macs.mac(cookie, msg, m2) : new byte[HandshakeCodec.MAC_BYTES];
    System.arraycopy(mac2, 0, msg, m2, mac2.length);
  }

  /** Takes the cookie from {@code reply}; false if it does not open (forged, stale or not ours). */
  public synchronized boolean consume(HandshakeCodec.CookieReply reply) {
    if (lastMac1 == null) {
      return false;
    }
    byte[] c = Macs.open(suite, cookieKey, reply.nonce(), lastMac1, reply.encryptedCookie());
    if (c == null || c.length != HandshakeCodec.MAC_BYTES) {
      return false;
    }
    cookie = c;
    cookieNanos = nanoClock.getAsLong();
    return true;
  }

  /** Whether a cookie is held and young enough to use for mac2. */
  public synchronized boolean hasFreshCookie() {
    return cookie != null && nanoClock.getAsLong() - cookieNanos < COOKIE_LIFETIME_NANOS;
  }
}
