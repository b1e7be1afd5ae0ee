package io.semnet.bench.proxy;

import io.semnet.core.node.PacketHandler;
import io.semnet.proxy.internal.packet.Checksums;
import io.semnet.proxy.internal.packet.TcpCoalescer;
import io.semnet.proxy.internal.packet.TcpSegmenter;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The user-space half of the TUN offloads, per 64 KiB TCP super-packet: {@link #segment} cuts it
 * into wire segments with full checksums (what the TUN reader does with a TSO read), {@link
 * #coalesce} merges those segments back and completes the GSO super-packet (what a TUN write
 * batch does). Both must allocate nothing ({@code -prof gc}: 0 B/op).
 *
 * <pre>
 * java -jar semnet-bench/target/benchmarks.jar OffloadBenchmark -prof gc
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class OffloadBenchmark {
  /** Payload bytes per segment: 1388 is what a 1440-byte TUN MTU with timestamps gives. */
  @Param({"1388"})
  int mss;

  ByteBuffer superPacket;
  ByteBuffer[] segments;
  TcpSegmenter segmenter;
  TcpCoalescer coalescer;
  Blackhole sink;
  final PacketHandler toBlackhole = p -> sink.consume(p.get(p.position() + 40));

  @Setup
  public void setUp(Blackhole bh) {
    sink = bh;
    int headers = 20 + 32;
    int payload = 65535 - headers;
    superPacket = ByteBuffer.allocateDirect(65535);
    ByteBuffer p = superPacket;
    p.put(0, (byte) 0x45).putShort(2, (short) 65535).putShort(4, (short) 7).putShort(6, (short) 0x4000);
    p.put(8, (byte) 64).put(9, (byte) 6).putInt(12, 0x0a0a0002).putInt(16, 0xac1e000a);
    p.putShort(10, (short) Checksums.finish(Checksums.sum(p, 0, 20, 0)));
    p.putShort(20, (short) 40000).putShort(22, (short) 5201).putInt(24, 1).putInt(28, 1);
    p.put(32, (byte) (8 << 4)).put(33, (byte) 0x18).putShort(34, (short) 501);
    p.put(40, (byte) 1).put(41, (byte) 1).put(42, (byte) 8).put(43, (byte) 10);
    for (int i = headers; i < 65535; i++) {
      p.put(i, (byte) (i * 31));
    }
    segmenter = new TcpSegmenter(65536);
    coalescer = new TcpCoalescer(10);
    int n = (payload + mss - 1) / mss;
    segments = new ByteBuffer[n];
    int[] i = {0};
    segmenter.segment(superPacket, 20, mss, s -> {
      ByteBuffer copy = ByteBuffer.allocateDirect(s.remaining());
      copy.put(0, s, s.position(), s.remaining());
      segments[i[0]++] = copy;
    });
  }

  @Benchmark
  public int segment() {
    superPacket.clear();
    return segmenter.segment(superPacket, 20, mss, toBlackhole);
  }

  @Benchmark
  public int coalesce() {
    TcpCoalescer c = coalescer;
    for (ByteBuffer s : segments) {
      s.clear();
      if (c.offer(s) != TcpCoalescer.Offer.TAKEN) {
        throw new IllegalStateException("segments of one super-packet must merge");
      }
    }
    int merged = c.segments();
    sink.consume(c.finish());
    c.clear();
    return merged;
  }
}
