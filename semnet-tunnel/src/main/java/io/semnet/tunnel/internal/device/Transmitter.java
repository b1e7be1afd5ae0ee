package io.semnet.tunnel.internal.device;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.semnet.tunnel.CipherSuite;
import io.semnet.tunnel.DropReason;
import io.semnet.tunnel.internal.Datagram;
import io.semnet.tunnel.internal.conn.SendPath;
import io.semnet.tunnel.internal.handshake.SessionListener;
import io.semnet.tunnel.internal.link.Drops;
import io.semnet.tunnel.internal.link.Link;
import io.semnet.tunnel.internal.link.Session;
import java.nio.ByteBuffer;

/**
 * The sealing send path: seals a datagram of a link's session on the calling thread (between
 * per-thread heap buffers, copied once into the socket's pooled direct buffer), holds packets
 * while a link's first handshake runs (at most {@code waitingPerLink}, beyond that
 * {@link DropReason#QUEUE_FULL}) and sends them once a session is in place, and sends probes.
 * Never blocks; every packet not sent is counted.
 */
public final class Transmitter implements SessionListener {
  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private final CipherSuite suite;
  private final boolean plaintext;
  private final int waitingPerLink;
  private final SendPath<Link> out;
  private final Drops drops;
  private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;

  public Transmitter(CipherSuite suite, boolean plaintext, int waitingPerLink, SendPath<Link> out, Drops drops) {
    this.suite = suite;
    this.plaintext = plaintext;
    this.waitingPerLink = waitingPerLink;
    this.out = out;
    this.drops = drops;
  }

  /**
   * Seals and sends one datagram of {@code type} under {@code s}; {@code payload}'s position is
   * left as it was. Data datagrams ({@code flushNow} false) may join the thread's GSO run.
   */
  public void transmit(Link link, Session s, int type, ByteBuffer payload, boolean flushNow) {
    if (!out.writable()) {
      drops.drop(DropReason.BACKPRESSURE, link);
      return;
    }
    int n = payload.remaining();
    int size = Datagram.size(n, plaintext);
    boolean coalesce = type == Datagram.TYPE_DATA && !flushNow;
    ByteBuf buf = out.claim(link, size, coalesce);
    try {
      // The JDK ciphers copy direct buffers into fresh heap arrays (2 KB per packet measured);
      // sealing between per-thread heap buffers and copying once into the direct buffer avoids it.
      Scratch x = SCRATCH.get();
      ByteBuffer in = x.in(size);
      int pos = payload.position();
      in.put(payload).flip();
      payload.position(pos);
      ByteBuffer sealed = x.out(size);
      Datagram.seal(suite, s.sendKey, type, s.remoteIndex, s.counter.getAndIncrement(), in, sealed);
      sealed.flip();
      buf.writeBytes(sealed);
    } catch (RuntimeException e) {
      out.abandon(buf, coalesce);
      drops.drop(DropReason.SEND_FAILED, link);
      return;
    }
    link.txPackets.incrementAndGet();
    if (type == Datagram.TYPE_DATA) {
      link.txBytes.addAndGet(n);
    }
    out.commit(buf, link, size, coalesce, flushNow);
  }

  /**
   * Holds a copy of {@code packet} until the link has a session; true if it is the first packet
   * waiting (the caller then makes sure a handshake runs).
   */
  public boolean hold(Link link, ByteBuffer packet) {
    boolean first;
    synchronized (link.waiting) {
      if (link.waiting.size() >= waitingPerLink || link.closed) {
        drops.drop(DropReason.QUEUE_FULL, link);
        return false;
      }
      first = link.waiting.isEmpty();
      ByteBuf copy = alloc.directBuffer(packet.remaining());
      copy.writeBytes(packet.duplicate());
      link.waiting.add(copy);
      link.waitingCount = link.waiting.size();
    }
    // The session may have arrived between the check and the enqueue.
    if (link.sendSession() != null) {
      out.eventLoopExecute(() -> flushWaiting(link));
    }
    return first;
  }

  /** Sends what waits on the link if it has a session, and flushes; event loop only. */
  public void flushWaiting(Link link) {
    Session s = link.sendSession();
    if (s == null) {
      return;
    }
    while (true) {
      ByteBuf b;
      synchronized (link.waiting) {
        b = link.waiting.poll();
        if (b == null) {
          link.waitingCount = 0;
          break;
        }
      }
      try {
        transmit(link, s, Datagram.TYPE_DATA, b.nioBuffer(), false);
      } finally {
        b.release();
        synchronized (link.waiting) {
          // Counted down only once sent: a sender that sees 0 cannot overtake the last one.
          link.waitingCount = link.waiting.size();
        }
      }
    }
    out.endRunAndFlush();
  }

  /** Sends a keepalive probe carrying its send time, if the link has a session; event loop only. */
  public void sendProbe(Link link) {
    Session s = link.sendSession();
    if (s == null) {
      return;
    }
    long now = System.nanoTime();
    link.probeSentNanos = now;
    link.probeOutstanding = true;
    ByteBuffer b = ByteBuffer.allocate(8).putLong(0, now);
    transmit(link, s, Datagram.TYPE_PROBE, b, false);
  }

  @Override
  public void established(Link link, boolean initiator) {
    if (initiator) {
      sendProbe(link);
    }
    flushWaiting(link);
  }

  /** Per-thread heap buffers for sealing (grown on demand, never shrunk). */
  private static final class Scratch {
    private ByteBuffer in = ByteBuffer.allocate(2048);
    private ByteBuffer out = ByteBuffer.allocate(2048);

    ByteBuffer in(int n) {
      if (in.capacity() < n) {
        in = ByteBuffer.allocate(n);
      }
      in.clear();
      return in;
    }

    ByteBuffer out(int n) {
      if (out.capacity() < n) {
        out = ByteBuffer.allocate(n);
      }
      out.clear();
      return out;
    }
  }
}
