package io.semnet.tunnel.internal.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.tunnel.CipherSuite;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** mac1/mac2 and the cookie round trip between a generator and a checker. */
class CookieTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final InetSocketAddress src = new InetSocketAddress("198.51.100.7", 5000);

  @ParameterizedTest
  @EnumSource(CipherSuite.class)
  void cookieRoundTripAndExpiry(CipherSuite suite) {
    byte[] responderPub = DhKeyPair.generate().publicKey();
    CookieChecker checker = new CookieChecker(suite, responderPub, now::get, new SecureRandom());
    CookieGenerator gen = new CookieGenerator(suite, responderPub, now::get);
    byte[] msg = HandshakeCodec.serialize(HandshakeCodecTest.initiation());
    gen.stamp(msg);
    assertTrue(checker.mac1Valid(msg));
    assertArrayEquals(new byte[16], Arrays.copyOfRange(msg, Macs.mac2Offset(msg.length), msg.length), "no cookie yet: mac2 zero");
    assertFalse(checker.mac2Valid(msg, src));

    byte[] reply = checker.cookieReply(msg, 7, src);
    HandshakeCodec.CookieReply parsed = (HandshakeCodec.CookieReply) HandshakeCodec.parse(reply, 0, reply.length).message();
    byte[] forged = parsed.encryptedCookie();
    forged[0] ^= 1;
    assertFalse(gen.consume(new HandshakeCodec.CookieReply(7, parsed.nonce(), forged)));
    assertTrue(gen.consume(parsed));

    gen.stamp(msg);
    assertTrue(checker.mac1Valid(msg));
    assertTrue(checker.mac2Valid(msg, src));
    assertFalse(checker.mac2Valid(msg, new InetSocketAddress("198.51.100.8", 5000)), "cookie bound to the address");

    now.addAndGet(CookieChecker.SECRET_LIFETIME_NANOS);
    assertFalse(checker.mac2Valid(msg, src), "secret rotated");
    assertFalse(gen.hasFreshCookie());
    gen.stamp(msg);
    assertArrayEquals(new byte[16], Arrays.copyOfRange(msg, Macs.mac2Offset(msg.length), msg.length), "stale cookie not used");

    CookieChecker other = new CookieChecker(suite, DhKeyPair.generate().publicKey(), now::get, new SecureRandom());
    assertFalse(other.mac1Valid(msg), "mac1 is bound to the receiver's key");
  }
}
