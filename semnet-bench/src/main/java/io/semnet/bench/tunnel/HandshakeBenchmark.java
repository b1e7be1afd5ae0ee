package io.semnet.bench.tunnel;

import io.semnet.tunnel.CipherSuite;
import io.semnet.tunnel.internal.noise.CookieGenerator;
import io.semnet.tunnel.internal.noise.DhKeyPair;
import io.semnet.tunnel.internal.noise.Handshake;
import io.semnet.tunnel.internal.noise.SessionKeys;
import io.semnet.tunnel.internal.noise.SourceRateLimiter;
import io.semnet.tunnel.internal.noise.TimestampStore;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Cost of the Noise IK handshake ({@code io.semnet.tunnel.internal.noise}): one full
 * initiation + response + completion on one thread (both sides: 4 + 4 X25519, fresh ephemerals,
 * timestamps, MACs), and the responder dropping an initiation whose mac1 is wrong (the cost of
 * garbage). Run with {@code -prof gc} for B/op.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class HandshakeBenchmark {
  private static final InetSocketAddress SOURCE = new InetSocketAddress("127.0.0.1", 40000);

  @Param({"AES_256_GCM", "CHACHA20_POLY1305"})
  public CipherSuite suite;

  private Handshake initiator;
  private Handshake responder;
  private byte[] responderPub;
  private CookieGenerator cookies;
  private byte[] badMac1;

  @Setup
  public void setUp() {
    SecureRandom r = new SecureRandom();
    DhKeyPair a = DhKeyPair.generate();
    DhKeyPair b = DhKeyPair.generate();
    responderPub = b.publicKey();
    // Rate limits far above what one thread can do, so the benchmark measures the handshake.
    initiator = new Handshake(suite, a, k -> true, TimestampStore.inMemory(), new SourceRateLimiter(16, 1_000_000_000, 1_000_000_000,
        System::nanoTime), r::nextInt, System::nanoTime, Clock.systemUTC());
    responder = new Handshake(suite, b, k -> true, TimestampStore.inMemory(), new SourceRateLimiter(16, 1_000_000_000, 1_000_000_000,
        System::nanoTime), r::nextInt, System::nanoTime, Clock.systemUTC());
    cookies = initiator.cookieGenerator(responderPub);
    badMac1 = initiator.initiate(responderPub, cookies).message();
    badMac1[badMac1.length - 20] ^= 1;
  }

  /** Initiation, response and completion: both sides' work for one session. */
  @Benchmark
  public SessionKeys fullHandshake() {
    Handshake.Pending p = initiator.initiate(responderPub, cookies);
    Handshake.Reply reply = responder.respond(p.message(), SOURCE, false);
    return initiator.complete(p, reply.message());
  }

  /** The responder dropping an initiation with a wrong mac1. */
  @Benchmark
  public Handshake.Drop rejectBadMac1() {
    return responder.respond(badMac1, SOURCE, false).drop();
  }
}
