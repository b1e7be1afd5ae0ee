package io.semnet.tunnel.internal.conn;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.DefaultSelectStrategyFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SelectStrategyFactory;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.SegmentedDatagramPacket;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.semnet.tunnel.DropReason;
import io.semnet.tunnel.internal.ProcNetUdp;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One UDP socket (Netty epoll, IPv4 or IPv6) with its own event-loop thread, batched receive
 * (recvmmsg, or UDP GRO runs split by Netty) and the batched send path {@link #out()}. Knows
 * nothing about links or sealing: received datagrams go to {@link SocketEvents} on the event
 * loop, one batch at a time; an exception thrown by the receiver is counted as
 * {@link DropReason#MALFORMED} and never closes the socket.
 *
 * @param <P> the owner type senders attach to their datagrams
 */
public final class BatchedUdpSocket<P extends Peer> {
  private static final Logger log = LoggerFactory.getLogger(BatchedUdpSocket.class);
  private static final int GRO_SLOT_BYTES = 65536;

  private final SocketConfig config;
  private final boolean udpGso;
  private final SendPath<P> out;
  private EventLoopGroup group;
  private EpollDatagramChannel channel;
  private Path eventLoopTaskDir;

  /** An unopened socket; {@link #open} creates and binds it. */
  public BatchedUdpSocket(SocketConfig config) {
    this.config = config;
    this.udpGso = config.udpGso() && config.batching() && SegmentedDatagramPacket.isSupported();
    this.out = new SendPath<>(config.batching(), udpGso);
  }

  /**
   * Creates and binds the socket on the calling thread (so it lands in that thread's network
   * namespace) and starts the event loop, whose thread inherits the namespace. On failure the
   * caller closes this socket.
   */
  public void open(SocketEvents<P> events) throws Exception {
    SelectStrategyFactory select = config.busyPoll().nanos() > 0 ? () -> new SpinningSelect(config.busyPoll())
        : DefaultSelectStrategyFactory.INSTANCE;
    group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("semnet-tunnel-" + config.name(), true),
        EpollIoHandler.newFactory(0, select));
    boolean v6 = config.bind().getAddress() instanceof Inet6Address;
    EpollDatagramChannel ch = new EpollDatagramChannel(v6 ? SocketProtocolFamily.INET6 : SocketProtocolFamily.INET);
    ch.config().setReceiveBufferSize(config.receiveBufferBytes());
    ch.config().setSendBufferSize(config.sendBufferBytes());
    ch.config().setWriteBufferWaterMark(new WriteBufferWaterMark(1 << 20, 4 << 20));
    boolean batching = config.batching();
    // With GRO the kernel hands over runs of datagrams up to 64 KiB long, so every recvmmsg slot
    // must hold that much: a shorter slot would truncate the run.
    int slot = config.udpGro() ? GRO_SLOT_BYTES : config.maxDatagramBytes();
    int perRead = !batching || config.udpGro() ? 1 : 32;
    ch.config().setRecvByteBufAllocator(new FixedRecvByteBufAllocator(slot * perRead).maxMessagesPerRead(batching ? 8 : 16));
    if (batching) {
      ch.config().setOption(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, slot);
    }
    if (config.udpGro()) {
      ch.config().setOption(EpollChannelOption.UDP_GRO, true);
    }
    ch.config().setOption(ChannelOption.MAX_MESSAGES_PER_WRITE, batching ? 64 : 1);
    out.attach(ch, events);
    ch.pipeline().addLast(new Handler(events));
    group.register(ch).sync();
    ch.bind(config.bind()).sync();
    channel = ch;
    eventLoopTaskDir = ch.eventLoop().submit(ProcNetUdp::taskDir).get(5, TimeUnit.SECONDS);
  }

  /** The send path (valid once opened). */
  public SendPath<P> out() {
    return out;
  }

  /** The socket's event loop (valid once opened). */
  public EventLoop eventLoop() {
    return channel.eventLoop();
  }

  /** The bound address, or null before {@link #open}. */
  public InetSocketAddress localAddress() {
    EpollDatagramChannel ch = channel;
    return ch == null ? null : ch.localAddress();
  }

  /** "rcvbuf R, sndbuf S" as granted by the kernel, for log lines. */
  public String bufferSizes() {
    return "rcvbuf " + channel.config().getReceiveBufferSize() + ", sndbuf " + channel.config().getSendBufferSize();
  }

  /** Datagrams the kernel dropped for want of receive-buffer space, or -1 if unknown. */
  public long receiveBufferDrops() {
    EpollDatagramChannel ch = channel;
    if (ch == null || !ch.isOpen()) {
      return -1;
    }
    // /proc/<pid>/task/<tid>/net shows the namespace of that thread: the event loop's, recorded at open.
    return ProcNetUdp.drops(eventLoopTaskDir, ch.fd().intValue());
  }

  /** Closes the channel, stops the event loop and releases queued datagrams; idempotent. */
  public void close() {
    if (channel != null) {
      channel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    }
    if (group != null) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }
    out.releaseQueued();
  }

  private final class Handler extends ChannelInboundHandlerAdapter {
    private final SocketEvents<P> events;

    Handler(SocketEvents<P> events) {
      this.events = events;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof DatagramPacket)) {
        ReferenceCountUtil.release(msg);
        return;
      }
      DatagramPacket p = (DatagramPacket) msg;
      try {
        ByteBuf c = p.content();
        events.onDatagram(c.internalNioBuffer(c.readerIndex(), c.readableBytes()), p.sender());
        events.errors().ok();
      } catch (Throwable e) {
        // Never silently: counted and logged; the loop survives unless the error is fatal (LoopErrors).
        events.errors().failed(e, "handling a datagram");
      } finally {
        p.release();
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      try {
        events.onBatchEnd();
      } catch (Throwable e) {
        events.errors().failed(e, "at a batch end");
      } finally {
        out.endRun();
        ctx.flush();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (cause instanceof Error) {
        events.errors().failed(cause, "in the socket");
        return;
      }
      events.onDrop(DropReason.SEND_FAILED, null);
      log.trace("tunnel {}: socket error", config.name(), cause);
    }
  }
}
