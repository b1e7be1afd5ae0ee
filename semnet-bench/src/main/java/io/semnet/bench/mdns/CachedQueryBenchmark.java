package io.semnet.bench.mdns;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.DefaultEventLoop;
import io.semnet.mdns.internal.ResponderCounts;
import io.semnet.mdns.internal.EngineConfig;
import io.semnet.mdns.internal.QueryEngine;
import io.semnet.mdns.internal.ReplySink;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Answering a query whose name is already in the name store: decode, look up, encode the reply into
 * a pooled buffer. Unicast DNS (A and AAAA) and a legacy-unicast mDNS query. Run with
 * {@code -prof gc} to see that nothing is allocated per query. Netty's leak detector is disabled in
 * the fork, as in production: at its default level it samples one buffer in 128 and that sampling
 * alone shows up as about 12 B/op.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
// Netty pools per-thread caches only for its own event-loop threads unless told otherwise; the
// responder runs on one, JMH's threads are not.
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.allocator.useCacheForAllThreads=true", "-Dio.netty.leakDetection.level=disabled"})
public class CachedQueryBenchmark {
  private static final String INSTANCE = "shop.prod.api.backend.0.none.local";
  private static final String SERVICE = "shop.prod.api.backend.any.rr.local";

  private DefaultEventLoop loop;
  private QueryEngine engine;
  private ByteBuf queryA;
  private ByteBuf queryAaaa;
  private ByteBuf legacyQuery;
  private final InetSocketAddress legacyPeer = new InetSocketAddress("10.9.0.7", 40000);
  private QueryEngine.MdnsOutput output;
  private Blackhole bh;
  private ByteBufAllocator allocator;

  /**
   * "default" is what the responder's channels use (Netty 4.2: adaptive, about 12 B per buffer of
   * its own bookkeeping); "pooled" for comparison; "reused" hands out one buffer again and again, so
   * what remains is the engine's own allocation (decode, look up, encode).
   */
  @Param({"default", "pooled", "reused"})
  public String alloc;

  private final ReplySink sink = new ReplySink() {
    @Override
    public ByteBufAllocator alloc() {
      return allocator;
    }

    @Override
    public void send(Object dest, ByteBuf msg) {
      bh.consume(msg.readableBytes());
      msg.release();
    }
  };

  @Setup(Level.Trial)
  public void setUp(Blackhole blackhole) throws Exception {
    bh = blackhole;
    allocator = alloc.equals("pooled") ? PooledByteBufAllocator.DEFAULT
        : alloc.equals("reused") ? new ReusingAllocator() : ByteBufAllocator.DEFAULT;
    loop = new DefaultEventLoop();
    EngineConfig cfg = new EngineConfig(30, TimeUnit.SECONDS.toNanos(5), TimeUnit.HOURS.toNanos(1), 2000,
        1024, 64, 10_000, 512, 9000, false, false);
    engine = new QueryEngine(cfg, new StaticResolver(), p -> p.equals("rr"), loop, new ResponderCounts(), null);
    output = new QueryEngine.MdnsOutput(sink, new InetSocketAddress("224.0.0.251", 5353));
    queryA = direct(query(0x1234, INSTANCE, 1, 1));
    queryAaaa = direct(query(0x1235, SERVICE, 28, 1));
    legacyQuery = direct(query(0x1236, INSTANCE, 1, 1));
    // Fill the name store on the engine's thread, then wait until the answers have landed.
    loop.submit(() -> {
      release(engine.handleUnicast(queryA.duplicate(), true, sink, null));
      release(engine.handleUnicast(queryAaaa.duplicate(), true, sink, null));
    }).get();
    for (int i = 0; i < 100 && loop.submit(() -> engine.storeSize()).get() < 2; i++) {
      Thread.sleep(10);
    }
    if (loop.submit(() -> engine.storeSize()).get() < 2) {
      throw new IllegalStateException("name store not filled");
    }
  }

  private static void release(ByteBuf b) {
    if (b != null) {
      b.release();
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    queryA.release();
    queryAaaa.release();
    legacyQuery.release();
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }

  @Benchmark
  public int unicastCachedA() {
    ByteBuf reply = engine.handleUnicast(queryA.readerIndex(0), true, sink, null);
    int n = reply.readableBytes();
    reply.release();
    return n;
  }

  @Benchmark
  public int unicastCachedAaaa() {
    ByteBuf reply = engine.handleUnicast(queryAaaa.readerIndex(0), true, sink, null);
    int n = reply.readableBytes();
    reply.release();
    return n;
  }

  @Benchmark
  public void mdnsLegacyCachedA() {
    engine.handleMdns(legacyQuery.readerIndex(0), legacyPeer, true, true, output);
  }

  /** Returns the same cleared buffer every time; release is a no-op. For measuring the engine alone. */
  static final class ReusingAllocator extends AbstractByteBufAllocator {
    private final ByteBuf shared = Unpooled.unreleasableBuffer(Unpooled.directBuffer(4096));

    ReusingAllocator() {
      super(true);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
      return shared.clear();
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
      return shared.clear();
    }

    @Override
    public boolean isDirectBufferPooled() {
      return true;
    }
  }

  static ByteBuf direct(byte[] b) {
    ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(b.length);
    buf.writeBytes(b);
    return buf;
  }

  static byte[] query(int id, String name, int type, int qclass) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int[] header = {id, 0x0100, 1, 0, 0, 0};
    for (int h : header) {
      out.write(h >>> 8);
      out.write(h & 0xff);
    }
    for (String label : name.split("\\.")) {
      byte[] l = label.getBytes(StandardCharsets.US_ASCII);
      out.write(l.length);
      out.write(l, 0, l.length);
    }
    out.write(0);
    out.write(type >>> 8);
    out.write(type & 0xff);
    out.write(qclass >>> 8);
    out.write(qclass & 0xff);
    return out.toByteArray();
  }
}
