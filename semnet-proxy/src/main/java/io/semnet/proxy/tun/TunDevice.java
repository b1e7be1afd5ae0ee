package io.semnet.proxy.tun;

import com.sun.jna.Memory;
import io.netty.util.internal.PlatformDependent;
import io.semnet.core.node.NodeContext;
import io.semnet.core.node.PacketHandler;
import io.semnet.core.node.PacketIo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Linux TUN device ({@code IFF_TUN | IFF_NO_PI}, optionally multi-queue) opened through
 * {@code /dev/net/tun} with JNA. {@link #build()} creates (or attaches to) the device, sets its MTU
 * and brings it up, in the calling thread's network namespace (see {@link NetworkNamespace}); the
 * device vanishes when closed unless it existed before.
 *
 * <p>As the node's {@link PacketIo}: one reader thread per queue waits with {@code poll(2)}, then
 * reads up to {@code batchSize} packets into one reusable direct buffer, hands each to the node's
 * {@link PacketHandler} and ends the batch with {@link PacketHandler#onPacketBatchEnd()}. Reads and
 * writes of direct buffers allocate nothing; heap buffers are copied through a per-thread direct
 * buffer. {@link #write} may be called from any thread and never blocks; failures are counted.
 *
 * <p>Why not {@code org.drasyl:netty-tun}: it wraps every packet read in a new {@code TunPacket}
 * (a ByteBuf holder) travelling a Netty pipeline, gives no batch boundary to flush the tunnel on,
 * opens single-queue devices only and offers no control over the namespace or MTU; the layer below
 * is a handful of syscalls, written here directly. {@code IFF_VNET_HDR} offloads can be added as a
 * flag later (the reader would then skip and interpret the virtio header).
 */
public final class TunDevice implements PacketIo {
  private static final Logger log = LoggerFactory.getLogger(TunDevice.class);
  private static final long TUNSETIFF = 0x400454caL;
  private static final long SIOCGIFFLAGS = 0x8913L;
  private static final long SIOCSIFFLAGS = 0x8914L;
  private static final long SIOCSIFMTU = 0x8922L;
  private static final short IFF_TUN = 0x0001;
  private static final short IFF_NO_PI = 0x1000;
  private static final short IFF_MULTI_QUEUE = 0x0100;
  private static final short IFF_UP = 0x1;
  private static final int IFNAMSIZ = 16;

  private final String name;
  private final int mtu;
  private final int batchSize;
  private final int pollMillis;
  private final int[] fds;
  private final List<Thread> readers = new ArrayList<>();
  private final ThreadLocal<ByteBuffer> copyBuffers;
  private final AtomicLong read = new AtomicLong();
  private final AtomicLong written = new AtomicLong();
  private final AtomicLong writeErrors = new AtomicLong();
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong handlerErrors = new AtomicLong();
  private volatile boolean running;
  private volatile boolean closed;

  private TunDevice(Builder b) throws IOException {
    this.mtu = b.mtu;
    this.batchSize = b.batchSize;
    this.pollMillis = b.pollMillis;
    this.fds = new int[b.queues];
    this.copyBuffers = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(Math.max(65536, mtu)));
    String actual = b.name;
    try {
      for (int q = 0; q < b.queues; q++) {
        fds[q] = -1;
        int fd = LibC.open("/dev/net/tun", LibC.O_RDWR | LibC.O_CLOEXEC);
        if (fd < 0) {
          throw new IOException("cannot open /dev/net/tun: " + LibC.error());
        }
        fds[q] = fd;
        try (Memory ifr = ifreq(actual)) {
          ifr.setShort(IFNAMSIZ, (short) (IFF_TUN | IFF_NO_PI | (b.queues > 1 ? IFF_MULTI_QUEUE : 0)));
          if (LibC.ioctl(fd, TUNSETIFF, ifr) != 0) {
            throw new IOException("TUNSETIFF " + actual + " failed: " + LibC.error());
          }
          actual = ifr.getString(0, StandardCharsets.US_ASCII.name());
        }
        int fl = LibC.fcntl(fd, LibC.F_GETFL, 0);
        if (fl < 0 || LibC.fcntl(fd, LibC.F_SETFL, fl | LibC.O_NONBLOCK) != 0) {
          throw new IOException("cannot make " + actual + " non-blocking: " + LibC.error());
        }
      }
      this.name = actual;
      configure(actual, b.mtu, b.up);
    } catch (IOException | RuntimeException e) {
      closeFds();
      throw e;
    }
  }

  public static Builder builder() {
    return new Builder();
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
      Thread t = new Thread(() -> readLoop(fd, handler), "tun-" + name + "-" + label + "-q" + q);
      t.setDaemon(true);
      readers.add(t);
      t.start();
    }
  }

  private void readLoop(int fd, PacketHandler handler) {
    ByteBuffer buf = ByteBuffer.allocateDirect(Math.max(65536, mtu + 64));
    long addr = PlatformDependent.directBufferAddress(buf);
    int cap = buf.capacity();
    try (Memory pfd = new Memory(8)) {
      pfd.setInt(0, fd);
      pfd.setShort(4, LibC.POLLIN);
      while (running) {
        pfd.setShort(6, (short) 0);
        int r = LibC.poll(pfd, 1, pollMillis);
        if (r <= 0) {
          continue;
        }
        int n = 0;
        while (n < batchSize && running) {
          long got = LibC.read(fd, addr, cap);
          if (got <= 0) {
            break;
          }
          n++;
          buf.limit((int) got).position(0);
          try {
            handler.onPacket(buf);
          } catch (RuntimeException e) {
            handlerErrors.incrementAndGet();
            log.warn("packet handler failed on {}", name, e);
          }
          buf.clear();
        }
        if (n > 0) {
          read.addAndGet(n);
          batches.incrementAndGet();
          try {
            handler.onPacketBatchEnd();
          } catch (RuntimeException e) {
            handlerErrors.incrementAndGet();
            log.warn("packet handler failed at batch end on {}", name, e);
          }
        }
      }
    }
  }

  /** Writes one packet (position to limit) to the device; never blocks, counts failures. */
  @Override
  public void write(ByteBuffer packet) {
    int len = packet.remaining();
    if (len <= 0 || closed) {
      return;
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
    long n = LibC.write(fds[0], addr, len);
    if (n == len) {
      written.incrementAndGet();
    } else {
      writeErrors.incrementAndGet();
    }
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

  private static Memory ifreq(String name) {
    byte[] n = name.getBytes(StandardCharsets.US_ASCII);
    if (n.length >= IFNAMSIZ) {
      throw new IllegalArgumentException("interface name '" + name + "' is longer than 15 characters");
    }
    Memory ifr = new Memory(40);
    ifr.clear();
    ifr.write(0, n, 0, n.length);
    return ifr;
  }

  /** Sets MTU and brings the link up through an AF_INET socket of the current namespace. */
  private static void configure(String name, int mtu, boolean up) throws IOException {
    int s = LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM, 0);
    if (s < 0) {
      throw new IOException("socket() failed: " + LibC.error());
    }
    try (Memory ifr = ifreq(name)) {
      ifr.setInt(IFNAMSIZ, mtu);
      if (LibC.ioctl(s, SIOCSIFMTU, ifr) != 0) {
        throw new IOException("cannot set MTU " + mtu + " on " + name + ": " + LibC.error());
      }
      if (up) {
        ifr.setInt(IFNAMSIZ, 0);
        if (LibC.ioctl(s, SIOCGIFFLAGS, ifr) != 0) {
          throw new IOException("cannot read flags of " + name + ": " + LibC.error());
        }
        ifr.setShort(IFNAMSIZ, (short) (ifr.getShort(IFNAMSIZ) | IFF_UP));
        if (LibC.ioctl(s, SIOCSIFFLAGS, ifr) != 0) {
          throw new IOException("cannot bring " + name + " up: " + LibC.error());
        }
      }
    } finally {
      LibC.close(s);
    }
  }

  /** Configures and opens a {@link TunDevice}. */
  public static final class Builder {
    private String name = "sn%d";
    private int mtu = 1400;
    private int queues = 1;
    private int batchSize = 64;
    private int pollMillis = 100;
    private boolean up = true;
    private String namespace;

    private Builder() {}

    /** Interface name, at most 15 characters; {@code %d} lets the kernel number it (default {@code sn%d}). */
    public Builder name(String name) {
      this.name = Objects.requireNonNull(name, "name");
      return this;
    }

    /** Device MTU (default 1400: room for the tunnel's overhead on a 1500-byte underlay). */
    public Builder mtu(int mtu) {
      if (mtu < 576 || mtu > 65535) {
        throw new IllegalArgumentException("MTU " + mtu + " outside 576..65535");
      }
      this.mtu = mtu;
      return this;
    }

    /** Number of queues (IFF_MULTI_QUEUE when above 1), each with its reader thread. */
    public Builder queues(int queues) {
      if (queues < 1 || queues > 64) {
        throw new IllegalArgumentException("queues outside 1..64");
      }
      this.queues = queues;
      return this;
    }

    /** Most packets read before the batch is ended (default 64). */
    public Builder batchSize(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("batchSize must be > 0");
      }
      this.batchSize = n;
      return this;
    }

    /** How long a reader waits in poll(2) before checking for close (default 100 ms). */
    public Builder pollMillis(int ms) {
      if (ms < 1) {
        throw new IllegalArgumentException("pollMillis must be > 0");
      }
      this.pollMillis = ms;
      return this;
    }

    /** Bring the link up (default true). */
    public Builder up(boolean up) {
      this.up = up;
      return this;
    }

    /** Create the device inside this named network namespace (default: the calling thread's). */
    public Builder namespace(String netns) {
      this.namespace = netns;
      return this;
    }

    /** Creates or attaches to the device. */
    public TunDevice build() throws IOException {
      if (!PlatformDependent.hasUnsafe()) {
        throw new IOException("direct-buffer addresses are unavailable (no sun.misc.Unsafe)");
      }
      if (namespace == null) {
        return new TunDevice(this);
      }
      try {
        return NetworkNamespace.run(namespace, () -> new TunDevice(this));
      } catch (IOException | RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IOException(e);
      }
    }
  }
}
