package io.semnet.samples.cluster;

import io.semnet.core.node.PacketHandler;
import io.semnet.proxy.tun.TunDevice;
import java.nio.ByteBuffer;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A point-to-point underlay link through user space, with configurable one-way delay, jitter and
 * loss in each direction: two TUN devices (one in each namespace) joined by a thread that copies
 * packets between them after a delay. It stands in for {@code tc netem}, which this kernel lacks;
 * as a test tool it copies every packet, so it is used only for links that must be impaired.
 */
final class ImpairedLink implements AutoCloseable {
  private final TunDevice a;
  private final TunDevice b;
  private final ScheduledExecutorService wire;
  private volatile long delayMicros;
  private volatile long jitterMicros;
  private volatile double loss;
  private final java.util.concurrent.atomic.AtomicLong dropped = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong forwarded = new java.util.concurrent.atomic.AtomicLong();

  ImpairedLink(String nsA, String nameA, String nsB, String nameB, String label) throws Exception {
    // A wire hands packets on as they come (its writers never flush), so no offloads here.
    this.a = TunDevice.builder().name(nameA).mtu(1500).offloads(false).namespace(nsA).build();
    this.b = TunDevice.builder().name(nameB).mtu(1500).offloads(false).namespace(nsB).build();
    this.wire = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "impaired-link-" + label);
      t.setDaemon(true);
      return t;
    });
    a.start(forwardTo(b), label + "-a");
    b.start(forwardTo(a), label + "-b");
  }

  /** Sets one-way delay, jitter (both in ms, applied per direction) and loss probability (0..1). */
  void impair(double delayMs, double jitterMs, double lossProbability) {
    this.delayMicros = (long) (delayMs * 1000);
    this.jitterMicros = (long) (jitterMs * 1000);
    this.loss = lossProbability;
  }

  private PacketHandler forwardTo(TunDevice out) {
    return packet -> {
      ThreadLocalRandom rnd = ThreadLocalRandom.current();
      if (loss > 0 && rnd.nextDouble() < loss) {
        dropped.incrementAndGet();
        return;
      }
      forwarded.incrementAndGet();
      byte[] copy = new byte[packet.remaining()];
      packet.get(copy);
      long d = delayMicros + (jitterMicros > 0 ? rnd.nextLong(-jitterMicros, jitterMicros + 1) : 0);
      if (d <= 0) {
        out.write(ByteBuffer.wrap(copy));
      } else {
        wire.schedule(() -> out.write(ByteBuffer.wrap(copy)), d, TimeUnit.MICROSECONDS);
      }
    };
  }

  /** Packets dropped on purpose so far (both directions). */
  long dropped() {
    return dropped.get();
  }

  /** Packets carried so far (both directions). */
  long forwarded() {
    return forwarded.get();
  }

  @Override
  public void close() {
    wire.shutdownNow();
    a.close();
    b.close();
  }
}
