package io.semnet.tunnel.internal.conn;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.SegmentedDatagramPacket;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.Socket;
import io.netty.util.internal.PlatformDependent;
import io.semnet.tunnel.DropReason;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The send side of a {@link BatchedUdpSocket}: pooled direct buffers, per-thread UDP GSO runs,
 * one hand-over queue from other threads to the event loop (one task per flush, not per datagram)
 * and the sending-thread fast path for a lone datagram. Datagrams never overtake one another;
 * nothing blocks: what the channel cannot take is dropped and reported as
 * {@link DropReason#BACKPRESSURE}.
 *
 * <p>A sender {@link #claim claims} a buffer, writes one datagram into it, then {@link #commit
 * commits} or {@link #abandon abandons} it, on the same thread.
 */
public final class SendPath<P extends Peer> {
  private static final int OUTBOUND_CAPACITY = 8192;
  private static final int OUTBOUND_EAGER_DRAIN = 256;

  private final boolean batching;
  private final boolean udpGso;
  private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
  private final Queue<DatagramPacket> outbound = PlatformDependent.newFixedMpscQueue(OUTBOUND_CAPACITY);
  private final AtomicBoolean drainScheduled = new AtomicBoolean();
  private final Runnable drainTask = this::drainOutbound;
  /** Datagrams handed to the outbound queue that the channel has not yet taken. */
  private final AtomicInteger handoffs = new AtomicInteger();
  private final ThreadLocal<GsoRun<P>> gsoRuns = ThreadLocal.withInitial(GsoRun::new);
  private final AtomicLong segmentedSends = new AtomicLong();
  private final AtomicLong directSends = new AtomicLong();
  private EpollDatagramChannel channel;
  private SocketEvents<P> events;

  SendPath(boolean batching, boolean udpGso) {
    this.batching = batching;
    this.udpGso = udpGso;
  }

  void attach(EpollDatagramChannel ch, SocketEvents<P> ev) {
    this.channel = ch;
    this.events = ev;
  }

  /** False while the channel is over its write high-water mark (a send would be dropped). */
  public boolean writable() {
    return channel.isWritable();
  }

  /**
   * A buffer with room for one datagram of {@code size} bytes: the calling thread's GSO run for
   * {@code peer} if {@code coalesce} (ending a run that cannot take it), else a fresh one.
   */
  public ByteBuf claim(P peer, int size, boolean coalesce) {
    if (udpGso && coalesce) {
      GsoRun<P> run = gsoRuns.get();
      if (!run.accepts(peer, size)) {
        pushRun(run);
      }
      if (run.buf == null) {
        run.start(peer, size, GsoRun.newBuffer(alloc, size));
      }
      return run.buf;
    }
    return alloc.directBuffer(size);
  }

  /** Gives up a claimed buffer into which nothing was written. */
  public void abandon(ByteBuf buf, boolean coalesce) {
    if (!(udpGso && coalesce)) {
      buf.release();
    }
  }

  /** Sends (or adds to the run) the datagram of {@code size} bytes just written into a claimed buffer. */
  public void commit(ByteBuf buf, P peer, int size, boolean coalesce, boolean flushNow) {
    if (udpGso && coalesce) {
      gsoRuns.get().added(size);
      return;
    }
    hand(channel, new DatagramPacket(buf, peer.address()), peer, flushNow);
  }

  /** Writes a datagram without flushing; event loop only. */
  public void writeOnLoop(ByteBuf buf, InetSocketAddress to) {
    channel.write(new DatagramPacket(buf, to), channel.voidPromise());
  }

  /** Runs a task on the socket's event loop. */
  public void eventLoopExecute(Runnable task) {
    channel.eventLoop().execute(task);
  }

  /** Flushes what the channel holds; event loop only. */
  public void flushChannel() {
    channel.flush();
  }

  /** Hands the calling thread's GSO run to the channel, without flushing. */
  public void endRun() {
    if (udpGso) {
      pushRun(gsoRuns.get());
    }
  }

  /** Ends the calling thread's run and flushes the channel; event loop only. */
  public void endRunAndFlush() {
    endRun();
    channel.flush();
  }

  /**
   * Pushes out what the calling thread sent: on the event loop, flushes the channel; elsewhere, a
   * lone datagram goes straight to the socket if nothing is pending ({@link #sendDirect}), else
   * the queue is handed to the event loop.
   */
  public void flush() {
    EpollDatagramChannel ch = channel;
    boolean inLoop = ch.eventLoop().inEventLoop();
    if (udpGso) {
      GsoRun<P> run = gsoRuns.get();
      if (!inLoop && run.segments == 1 && sendDirect(ch, run)) {
        run.reset();
      } else {
        pushRun(run);
      }
    }
    if (inLoop) {
      ch.flush();
    } else if (!outbound.isEmpty()) {
      scheduleDrain();
    }
  }

  /** UDP_SEGMENT sends so far. */
  public long segmentedSends() {
    return segmentedSends.get();
  }

  /** Datagrams written by the sending thread itself so far. */
  public long directSends() {
    return directSends.get();
  }

  /** Releases what is still queued (after the channel closed). */
  void releaseQueued() {
    DatagramPacket q;
    while ((q = outbound.poll()) != null) {
      q.release();
    }
  }

  /**
   * Sends a lone datagram from the calling thread straight to the socket, sparing the hand-over
   * to the event loop and its wake-up (a request/response exchange pays that twice per round
   * trip). Only when nothing sent earlier is still queued or unwritten, so datagrams never
   * overtake each other; otherwise, or if the socket is full, the caller queues as usual.
   *
   * @return true if sent (the run's buffer is released)
   */
  private boolean sendDirect(EpollDatagramChannel ch, GsoRun<P> run) {
    ChannelOutboundBuffer pending = ch.unsafe().outboundBuffer();
    if (handoffs.get() != 0 || pending == null || pending.totalPendingWriteBytes() != 0) {
      return false;
    }
    ByteBuf b = run.buf;
    if (!b.hasMemoryAddress()) {
      return false;
    }
    InetSocketAddress to = run.peer.address();
    try {
      int n = ((Socket) ch.fd()).sendToAddress(
          b.memoryAddress(), b.readerIndex(), b.writerIndex(), to.getAddress(), to.getPort());
      if (n <= 0) {
        return false;
      }
    } catch (IOException | RuntimeException e) {
      return false;
    }
    b.release();
    directSends.incrementAndGet();
    return true;
  }

  /** Queues one datagram (or a run of them) on the channel, from whichever thread is sending. */
  private void hand(EpollDatagramChannel ch, DatagramPacket p, P peer, boolean flushNow) {
    if (ch.eventLoop().inEventLoop()) {
      if (flushNow || !batching) {
        ch.writeAndFlush(p, ch.voidPromise());
      } else {
        ch.write(p, ch.voidPromise());
      }
    } else if (!batching) {
      ch.writeAndFlush(p, ch.voidPromise());
    } else {
      // Other threads hand datagrams over through one queue and one task per flush, instead of a
      // Netty write task (and event-loop wake-up) per datagram.
      handoffs.incrementAndGet();
      if (!outbound.offer(p)) {
        handoffs.decrementAndGet();
        p.release();
        events.onDrop(DropReason.BACKPRESSURE, peer);
        return;
      }
      if (flushNow || outbound.size() >= OUTBOUND_EAGER_DRAIN) {
        scheduleDrain();
      }
    }
  }

  /** Hands the calling thread's run of datagrams to the channel: one send with UDP_SEGMENT. */
  private void pushRun(GsoRun<P> run) {
    if (run.buf == null) {
      return;
    }
    DatagramPacket p;
    if (run.segments > 1) {
      p = new SegmentedDatagramPacket(run.buf, run.segmentSize, run.peer.address());
      segmentedSends.incrementAndGet();
    } else {
      p = new DatagramPacket(run.buf, run.peer.address());
    }
    P peer = run.peer;
    run.reset();
    hand(channel, p, peer, false);
  }

  private void scheduleDrain() {
    if (drainScheduled.compareAndSet(false, true)) {
      channel.eventLoop().execute(drainTask);
    }
  }

  private void drainOutbound() {
    drainScheduled.set(false);
    EpollDatagramChannel ch = channel;
    DatagramPacket p;
    int n = 0;
    while ((p = outbound.poll()) != null) {
      ch.write(p, ch.voidPromise());
      // Counted down only once the channel holds it, so a direct send never overtakes it.
      handoffs.decrementAndGet();
      if (++n % 64 == 0) {
        ch.flush();
      }
    }
    ch.flush();
  }
}
