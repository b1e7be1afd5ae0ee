package io.semnet.proxy.tun;

import com.sun.jna.Memory;
import io.netty.util.internal.PlatformDependent;
import io.semnet.core.node.BusyPoll;
import io.semnet.core.node.NodeContext;
import io.semnet.core.node.PacketHandler;
import io.semnet.core.node.PacketIo;
import io.semnet.core.stats.Stat;
import io.semnet.core.stats.StatsSource;
import io.semnet.core.stats.StatsVisitor;
import io.semnet.proxy.internal.packet.TcpCoalescer;
import io.semnet.proxy.internal.packet.TcpSegmenter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Linux TUN device ({@code IFF_TUN | IFF_NO_PI}, optionally multi-queue) opened through
 * {@code /dev/net/tun} with JNA. {@link TunDeviceBuilder#build()} creates (or attaches to) the device, sets its MTU
 * and brings it up, in the calling thread's network namespace (see {@link NetworkNamespace}); the
 * device vanishes when closed unless it existed before.
 *
 * <p>As the node's {@link PacketIo}: one reader thread per queue waits with {@code poll(2)}, then
 * reads up to {@code batchSize} packets into one reusable direct buffer, hands each to the node's
 * {@link PacketHandler} and ends the batch with {@link PacketHandler#onPacketBatchEnd()}. Reads and
 * writes of direct buffers allocate nothing; heap buffers are copied through a per-thread direct
 * buffer. {@link #write} may be called from any thread and never blocks; failures are counted.
 *
 * <p><b>Offloads</b> (on by default, {@link TunDeviceBuilder#offloads}): the device is opened with {@code
 * IFF_VNET_HDR} and announces checksum and TCP segmentation offload ({@code TUNSETOFFLOAD}), so the
 * kernel hands over TCP super-packets of up to 64 KiB with a partial checksum instead of one packet
 * per MTU. The reader cuts them into MTU-sized segments with full checksums ({@link TcpSegmenter})
 * before the handler sees them, so handlers only ever see ordinary packets, while one {@code read}
 * and one pass through the sender's TCP stack and the forwarding path carry up to 45 segments. In
 * the other direction, consecutive segments of a connection written in one batch are merged back
 * ({@link TcpCoalescer}) and written as one GSO super-packet, so the receiving instance's TCP stack
 * also sees one packet per batch. A kernel that refuses the offload leaves the device in plain mode
 * (logged).
 *
 * <p>Why not {@code org.drasyl:netty-tun}: it wraps every packet read in a new {@code TunPacket}
 * (a ByteBuf holder) travelling a Netty pipeline, gives no batch boundary to flush the tunnel on,
 * opens single-queue devices only and offers no control over the namespace, MTU or offloads; the
 * layer below is a handful of syscalls, written here directly.
 */
public final class TunDevice implements PacketIo, StatsSource {
  private static final Logger log = LoggerFactory.getLogger(TunDevice.class);

  private final String name;
  private final int mtu;
  private final int batchSize;
  private final int pollMillis;
  private final BusyPoll busyPoll;
  private final int[] fds;
  private final boolean offloads;
  private final List<Thread> readers = new ArrayList<>();
  private final ThreadLocal<ByteBuffer> copyBuffers;
  private final ThreadLocal<Writer> writers = ThreadLocal.withInitial(Writer::new);
  private final AtomicLong read = new AtomicLong();
  private final AtomicLong written = new AtomicLong();
  private final AtomicLong writeErrors = new AtomicLong();
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong handlerErrors = new AtomicLong();
  private final AtomicLong superPackets = new AtomicLong();
  private final AtomicLong superPacketsWritten = new AtomicLong();
  private final AtomicLong offloadErrors = new AtomicLong();
  private volatile boolean running;
  /** The node, told when a reader thread fails beyond recovery (null outside a node). */
  private volatile NodeContext context;
  /** Why a reader thread stopped, or null while they all run. */
  private volatile Throwable failure;
  /** Consecutive packets whose handling threw an Error (reset by one handled normally). */
  private int errorRun;
  /** The handler's fatal error on its way out (already counted). */
  private volatile Throwable rethrown;
  private volatile boolean closed;

  TunDevice(TunDeviceBuilder b) throws IOException {
    this.mtu = b.mtu;
    this.batchSize = b.batchSize;
    this.pollMillis = b.pollMillis;
    this.busyPoll = b.busyPoll;
    this.fds = new int[b.queues];
    this.copyBuffers = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(Math.max(65536, mtu)));
    String actual = b.name;
    boolean vnet = b.offloads;
    try {
      for (int q = 0; q < b.queues; q++) {
        fds[q] = -1;
        actual = TunIoctl.openQueue(fds, q, actual, b.queues > 1, vnet);
      }
      this.name = actual;
      this.offloads = vnet;
      TunIoctl.configure(actual, b.mtu, b.up);
    } catch (IOException | RuntimeException e) {
      closeFds();
      throw e;
    }
  }

  /** A builder for a device: name, MTU, queues, batch size, offloads, namespace. */
  public static TunDeviceBuilder builder() {
    return new TunDeviceBuilder();
  }

  /** The interface name the kernel gave (a template like {@code sn%d} is expanded). */
  public String name() {
    return name;
  }

  @Override
  public int mtu() {
    return mtu;
  }

  /** Starts the reader thread(s), delivering to {@code context.packetHandler()}. */
  @Override
  public void start(NodeContext context) {
    PacketHandler handler = Objects.requireNonNull(context.packetHandler(), "the node has no packet handler");
    this.context = context;
    start(handler, context.nodeId());
  }

  /** Starts the reader thread(s) delivering to {@code handler} (for use outside a node). */
  public synchronized void start(PacketHandler handler, String label) {
    if (closed) {
      throw new IllegalStateException("device " + name + " is closed");
    }
    if (running) {
      throw new IllegalStateException("device " + name + " is already started");
    }
    running = true;
    for (int q = 0; q < fds.length; q++) {
      int fd = fds[q];
      Thread t = new Thread(() -> guardedReadLoop(fd, handler), "tun-" + name + "-" + label + "-q" + q);
      t.setDaemon(true);
      readers.add(t);
      t.start();
    }
  }

  /**
   * The reader never dies silently: whatever escapes the loop (an Error in the loop itself, a
   * fatal one from the handler) is counted, logged, recorded as {@link #failure()} and reported to
   * the node, which enters its failed state and stops loudly.
   */
  private void guardedReadLoop(int fd, PacketHandler handler) {
    try {
      readLoop(fd, handler);
    } catch (Throwable t) {
      if (t != rethrown) {
        handlerErrors.incrementAndGet();
      }
      failure = t;
      running = false;
      log.error("TUN reader of {} stopped", name, t);
      NodeContext c = context;
      if (c != null) {
        c.fail(this, t);
      }
    }
  }

  /** Why a reader thread stopped beyond recovery, or null while they run. */
  public Throwable failure() {
    return failure;
  }

  /**
   * Counts and logs a handler failure. Exceptions, and errors a packet can cause without harming the
   * process (out of memory, direct memory included; stack overflow), are survived; an Error of any
   * other kind, or 1000 errors in a row, is rethrown and stops the reader (see {@link #guardedReadLoop}).
   */
  private void handlerFailed(Throwable e, String where) {
    handlerErrors.incrementAndGet();
    if (e instanceof Error) {
      boolean survivable = e instanceof OutOfMemoryError || e instanceof StackOverflowError;
      if (!survivable || ++errorRun >= 1000) {
        rethrown = e;
        throw (Error) e;
      }
    }
    log.warn("packet handler failed {} on {}", where, name, e);
  }

  private void readLoop(int fd, PacketHandler handler) {
    int headroom = offloads ? VirtioNetHeader.LENGTH : 0;
    // With offloads a read may carry a 64 KiB super-packet behind the virtio header.
    ByteBuffer buf = ByteBuffer.allocateDirect(Math.max(65536, mtu) + headroom + 64);
    TcpSegmenter segmenter = offloads ? new TcpSegmenter(65536) : null;
    long addr = PlatformDependent.directBufferAddress(buf);
    int cap = buf.capacity();
    try (Memory pfd = new Memory(8)) {
      pfd.setInt(0, fd);
      pfd.setShort(4, LibC.POLLIN);
      long lastRead = 0;
      while (running) {
        // Within the busy-poll window after the last packet, read without parking in poll (the
        // fd is non-blocking: an empty queue answers EAGAIN at once).
        boolean spinning = busyPoll.nanos() > 0 && busyPoll.spinning(lastRead, System.nanoTime());
        if (!spinning) {
          pfd.setShort(6, (short) 0);
          int r = LibC.poll(pfd, 1, pollMillis);
          if (r <= 0) {
            continue;
          }
        }
        int reads = 0;
        long packets = 0;
        while (reads < batchSize && running) {
          long got = LibC.read(fd, addr, cap);
          if (got <= 0) {
            break;
          }
          reads++;
          if (got <= headroom) {
            offloadErrors.incrementAndGet();
            continue;
          }
          buf.limit((int) got).position(headroom);
          try {
            packets += offloads ? deliverOffloaded(buf, segmenter, handler) : deliver(buf, handler);
            if (errorRun != 0) {
              errorRun = 0;
            }
          } catch (Throwable e) {
            handlerFailed(e, "");
          }
          buf.clear();
        }
        if (reads == 0 && spinning) {
          Thread.onSpinWait();
        }
        if (reads > 0) {
          if (busyPoll.nanos() > 0) {
            lastRead = System.nanoTime();
          }
          read.addAndGet(packets);
          batches.incrementAndGet();
          try {
            handler.onPacketBatchEnd();
          } catch (Throwable e) {
            handlerFailed(e, "at batch end");
          }
        }
      }
    }
  }

  private static int deliver(ByteBuffer packet, PacketHandler handler) {
    handler.onPacket(packet);
    return 1;
  }

  /** Interprets the virtio header in front of {@code buf}'s packet; returns the packets handed over. */
  private int deliverOffloaded(ByteBuffer buf, TcpSegmenter segmenter, PacketHandler handler) {
    int gsoType = VirtioNetHeader.gsoType(buf);
    int l4 = buf.position() + VirtioNetHeader.checksumStart(buf);
    switch (gsoType) {
      case VirtioNetHeader.GSO_NONE:
        if (VirtioNetHeader.needsChecksum(buf)) {
          int field = l4 + VirtioNetHeader.checksumOffset(buf);
          if (!TcpSegmenter.completeChecksum(buf, l4, field, field - l4 == VirtioNetHeader.UDP_CHECKSUM_OFFSET)) {
            offloadErrors.incrementAndGet();
            return 0;
          }
        }
        return deliver(buf, handler);
      case VirtioNetHeader.GSO_TCPV4:
      case VirtioNetHeader.GSO_TCPV6:
        superPackets.incrementAndGet();
        int n = segmenter.segment(buf, l4, VirtioNetHeader.gsoSize(buf), handler);
        if (n < 0) {
          offloadErrors.incrementAndGet();
          return 0;
        }
        return n;
      default:
        offloadErrors.incrementAndGet();
        return 0;
    }
  }

  /**
   * Writes one packet (position to limit) to the device; never blocks, counts failures. With
   * offloads, consecutive segments of one TCP connection written by the same thread are merged
   * ({@link TcpCoalescer}) and written as one super-packet at the latest on {@link #flush()}.
   */
  @Override
  public void write(ByteBuffer packet) {
    int len = packet.remaining();
    if (len <= 0 || closed) {
      return;
    }
    Writer w = null;
    if (offloads) {
      w = writers.get();
      TcpCoalescer c = w.coalescer;
      TcpCoalescer.Offer o = c.offer(packet);
      if (o == TcpCoalescer.Offer.FLUSH_FIRST) {
        writePending(w);
        o = c.offer(packet);
      }
      if (o == TcpCoalescer.Offer.TAKEN) {
        return;
      }
      writePending(w);
    }
    long addr;
    if (packet.isDirect()) {
      addr = PlatformDependent.directBufferAddress(packet) + packet.position();
    } else {
      ByteBuffer c = copyBuffers.get();
      if (len > c.capacity()) {
        writeErrors.incrementAndGet();
        return;
      }
      c.clear();
      c.put(0, packet, packet.position(), len);
      addr = PlatformDependent.directBufferAddress(c);
    }
    long n;
    if (w != null) {
      n = w.header.writePlain(fds[0], addr, len) - VirtioNetHeader.LENGTH;
    } else {
      n = LibC.write(fds[0], addr, len);
    }
    if (n == len) {
      written.incrementAndGet();
    } else {
      writeErrors.incrementAndGet();
    }
  }

  /** Writes the merged segments this thread holds, if any. */
  @Override
  public void flush() {
    if (offloads && !closed) {
      writePending(writers.get());
    }
  }

  private void writePending(Writer w) {
    TcpCoalescer c = w.coalescer;
    if (!c.hasPending()) {
      return;
    }
    int segments = c.segments();
    ByteBuffer b = c.finish();
    if (segments > 1) {
      VirtioNetHeader.putGso(b, 0, c.ipv6(), c.headerLength(), c.segmentSize(), c.tcpOffset());
    } else {
      VirtioNetHeader.putNone(b, 0);
    }
    int len = b.limit();
    long n = LibC.write(fds[0], PlatformDependent.directBufferAddress(b), len);
    c.clear();
    if (n == len) {
      written.addAndGet(segments);
      if (segments > 1) {
        superPacketsWritten.incrementAndGet();
      }
    } else {
      writeErrors.addAndGet(segments);
    }
  }

  /** A writing thread's scratch: the header for plain packets and the segments it is merging. */
  private static final class Writer {
    final VirtioNetHeader.Writer header = new VirtioNetHeader.Writer();
    final TcpCoalescer coalescer = new TcpCoalescer(VirtioNetHeader.LENGTH);
  }

  /** Whether the device runs with the virtio header and TCP segmentation/checksum offloads. */
  public boolean offloads() {
    return offloads;
  }

  /** TCP super-packets read from the device (each cut into several packets), with offloads on. */
  public long superPacketsRead() {
    return superPackets.get();
  }

  /** Super-packets written (each several merged TCP segments), with offloads on. */
  public long superPacketsWritten() {
    return superPacketsWritten.get();
  }

  /** Reads dropped because their virtio header or offloaded packet made no sense. */
  public long offloadErrors() {
    return offloadErrors.get();
  }

  /** Packets read from the device. */
  public long packetsRead() {
    return read.get();
  }

  /** Packets written to the device. */
  public long packetsWritten() {
    return written.get();
  }

  /** Writes the kernel refused (e.g. device down, malformed packet). */
  public long writeErrors() {
    return writeErrors.get();
  }

  /** Read batches handed to the handler. */
  public long batches() {
    return batches.get();
  }

  /** Exceptions thrown by the packet handler (caught; the reader goes on). */
  public long handlerErrors() {
    return handlerErrors.get();
  }

  private static final Stat PACKETS = Stat.counter("semnet.tun.packets", "Packets read from and written to the TUN device", "direction");
  private static final Stat SUPER_PACKETS = Stat.counter("semnet.tun.super.packets",
      "TCP super-packets read and written with offloads on", "direction");
  private static final Stat ERRORS = Stat.counter("semnet.tun.errors",
      "TUN errors: offload (nonsensical virtio header), write (refused by the kernel), handler (exception)", "kind");
  private static final Stat BATCHES = Stat.counter("semnet.tun.batches", "Read batches handed to the handler");

  /** Reports the same counts as the getters above, as {@code semnet.tun.*} stats. */
  @Override
  public void reportTo(StatsVisitor v) {
    v.value(PACKETS, "read", read.get());
    v.value(PACKETS, "written", written.get());
    v.value(SUPER_PACKETS, "read", superPackets.get());
    v.value(SUPER_PACKETS, "written", superPacketsWritten.get());
    v.value(ERRORS, "offload", offloadErrors.get());
    v.value(ERRORS, "write", writeErrors.get());
    v.value(ERRORS, "handler", handlerErrors.get());
    v.value(BATCHES, batches.get());
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      running = false;
    }
    for (Thread t : readers) {
      try {
        t.join(Math.max(1000, pollMillis * 5L));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    closeFds();
  }

  private void closeFds() {
    for (int i = 0; i < fds.length; i++) {
      if (fds[i] >= 0) {
        LibC.close(fds[i]);
        fds[i] = -1;
      }
    }
  }

}
