package io.semnet.tunnel.internal.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.semnet.tunnel.CipherSuite;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Clock;

/**
 * Fuzzes the handshake message codec and the handshake entry points behind it. Whatever the
 * bytes: {@link HandshakeCodec#parse} never throws and gives exactly a message or an error; a
 * parsed message serializes back to the same bytes; a responder and an initiator with a pending
 * handshake fed the bytes never throw and never derive keys. Normal runs replay the saved inputs in
 * {@code src/test/resources/.../HandshakeCodecFuzzTestInputs}; fuzz with
 * {@code JAZZER_FUZZ=1 mvn -pl semnet-core,semnet-tunnel -am verify -Dtest='HandshakeCodecFuzzTest#codec'}.
 */
class HandshakeCodecFuzzTest {
  private static final InetSocketAddress SOURCE = new InetSocketAddress("127.0.0.1", 40000);
  private static Handshake responder;
  private static Handshake initiator;
  private static Handshake.Pending pending;
  private static byte[] responderKey;
  /** The responder's key behind a limiter that never limits: the fuzzer must reach Noise, not the bucket (the first run did not). */
  private static Handshake unlimited;

  private static synchronized void setUp() {
    if (responder != null) {
      return;
    }
    SecureRandom r = new SecureRandom();
    DhKeyPair a = DhKeyPair.generate();
    DhKeyPair b = DhKeyPair.generate();
    responderKey = b.publicKey();
    unlimited = new Handshake(CipherSuite.AES_256_GCM, b, k -> true, TimestampStore.inMemory(),
        new SourceRateLimiter(64, 1_000_000_000, 1_000_000, System::nanoTime), r::nextInt, System::nanoTime, Clock.systemUTC());
    responder = new Handshake(CipherSuite.AES_256_GCM, b, k -> true, TimestampStore.inMemory(),
        new SourceRateLimiter(64, 20, 5, System::nanoTime), r::nextInt, System::nanoTime, Clock.systemUTC());
    initiator = new Handshake(CipherSuite.AES_256_GCM, a, k -> true, TimestampStore.inMemory(),
        new SourceRateLimiter(64, 20, 5, System::nanoTime), r::nextInt, System::nanoTime, Clock.systemUTC());
    pending = initiator.initiate(b.publicKey(), initiator.cookieGenerator(b.publicKey()));
  }

  /**
   * Bypasses mac1: stamps a valid mac1 for the responder on the input, so the bytes reach the
   * parser and Noise behind the MAC check (fuzz with {@code -Dtest='HandshakeCodecFuzzTest#pastMac1'}).
   */
  @FuzzTest(maxDuration = "60s")
  void pastMac1(byte[] input) {
    setUp();
    if (input.length < 2 * HandshakeCodec.MAC_BYTES) {
      return;
    }
    byte[] msg = input.clone();
    msg[0] = HandshakeCodec.VERSION;
    new CookieGenerator(CipherSuite.AES_256_GCM, responderKey, System::nanoTime).stamp(msg);
    Handshake.Reply r = unlimited.respond(msg, SOURCE, false);
    assertNull(r.keys(), "keys from forged input");
    assertFalse(r.drop() == Handshake.Drop.BAD_MAC1, "mac1 was stamped");
  }

  @FuzzTest(maxDuration = "60s")
  void codec(byte[] input) {
    setUp();
    HandshakeCodec.Parsed p = HandshakeCodec.parse(input, 0, input.length);
    assertNotNull(p);
    assertFalse(p.ok() == (p.error() != null), "exactly one of message and error");
    if (p.ok()) {
      assertArrayEquals(input, HandshakeCodec.serialize(p.message()));
      assertEquals(input[1] & 0xff, HandshakeCodec.type(input, 0, input.length));
    }
    boolean underLoad = input.length > 0 && (input[input.length - 1] & 1) != 0;
    assertNull(responder.respond(input, SOURCE, underLoad).keys(), "keys from forged input");
    assertNull(initiator.complete(pending, input), "keys from forged response");
    initiator.acceptCookieReply(pending, input);
  }
}
