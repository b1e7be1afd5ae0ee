package io.semnet.bench.tunnel;

import io.semnet.tunnel.CipherSuite;
import io.semnet.tunnel.internal.Datagram;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Seal+encode and decode+open of one tunnel datagram carrying a 1400-byte inner packet, per AEAD,
 * between direct buffers as the tunnel does (header written, nonce from epoch and counter, header
 * authenticated). Run with {@code -prof gc} for B/op; {@link #sealOpen} is one packet's whole
 * tunnel crypto (seal on the sender, open on the receiver). The AEAD provider is the tunnel's
 * default (the JDK); compare with Conscrypt by {@code -jvmArgs -Dsemnet.tunnel.aead=conscrypt}.
 *
 * <pre>
 * java -jar semnet-bench/target/benchmarks.jar DatagramCodecBenchmark.sealOpen -p direct=true -prof gc
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class DatagramCodecBenchmark {
  @Param({"AES_256_GCM", "CHACHA20_POLY1305"})
  public CipherSuite suite;

  @Param({"1400"})
  public int size;

  /** Direct buffers (what the socket uses) or heap buffers (what the JDK ciphers handle without copying). */
  @Param({"true", "false"})
  public boolean direct;

  private SecretKey key;
  private ByteBuffer payload;
  private ByteBuffer out;
  private ByteBuffer sealed;
  private ByteBuffer sealed2;
  private boolean flip;
  private ByteBuffer opened;
  private long counter;

  @Setup
  public void setUp() {
    byte[] k = new byte[32];
    new SecureRandom().nextBytes(k);
    key = new SecretKeySpec(k, suite.keyAlgorithm());
    payload = alloc(size);
    for (int i = 0; i < size; i++) {
      payload.put(i, (byte) i);
    }
    out = alloc(Datagram.size(size, false));
    sealed = alloc(Datagram.size(size, false));
    Datagram.seal(suite, key, Datagram.TYPE_DATA, 3, 42, payload.duplicate(), sealed);
    sealed.flip();
    // two datagrams opened alternately: the JDK's ChaCha20 refuses to re-init with the same nonce
    sealed2 = alloc(Datagram.size(size, false));
    Datagram.seal(suite, key, Datagram.TYPE_DATA, 3, 43, payload.duplicate(), sealed2);
    sealed2.flip();
    opened = alloc(size + 64);
    if (decodeOpen() != size + 3 + 42 || decodeOpen() != size + 3 + 43) {
      throw new IllegalStateException("the sealed datagram does not open");
    }
  }

  private ByteBuffer alloc(int n) {
    return direct ? ByteBuffer.allocateDirect(n) : ByteBuffer.allocate(n);
  }

  @Benchmark
  public int sealEncode() {
    out.clear();
    payload.clear();
    return Datagram.seal(suite, key, Datagram.TYPE_DATA, 3, counter++, payload, out);
  }

  /** Seal 1,400 bytes into a datagram, then open it again (a fresh nonce every time). */
  @Benchmark
  public int sealOpen() {
    out.clear();
    payload.clear();
    Datagram.seal(suite, key, Datagram.TYPE_DATA, 3, counter++, payload, out);
    out.flip();
    opened.clear();
    return Datagram.open(suite, key, out, opened);
  }

  @Benchmark
  public int decodeOpen() {
    flip = !flip;
    ByteBuffer d = flip ? sealed : sealed2;
    if (d.remaining() < Datagram.HEADER_BYTES || Datagram.version(d) != Datagram.VERSION || !Datagram.knownType(Datagram.type(d))) {
      return -1;
    }
    int sum = Datagram.receiverIndex(d) + (int) Datagram.counter(d);
    opened.clear();
    return Datagram.open(suite, key, d, opened) + sum;
  }
}
