package io.semnet.mdns.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.TooLongFrameException;
import io.semnet.mdns.ResponderCounters;
import io.semnet.mdns.ResponderCounters.Counter;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The name responder's socket side: the Netty handlers of its unicast DNS (UDP, TCP) and mDNS
 * channels, which hand every message to the {@link QueryEngine} on the responder's event loop and
 * send what it answers. A bad packet or connection never closes a UDP socket; the TCP handler
 * bounds connections, idleness and unread answers.
 */
public final class ResponderHandlers {
  /** Seconds after which an idle TCP connection is closed (RFC 7766 leaves the timeout to us). */
  public static final int TCP_IDLE_SECONDS = 10;
  private static final Logger LOG = LoggerFactory.getLogger("io.semnet.mdns.SemanticNameResponder");

  private ResponderHandlers() {}

  /** Replies on a datagram channel; drops (and counts) what a full socket buffer cannot take. */
  public static final class UdpSink implements ReplySink {
    private final Channel ch;
    private final ResponderCounts counters;

    public UdpSink(Channel ch, ResponderCounts counters) {
      this.ch = ch;
      this.counters = counters;
    }

    @Override
    public ByteBufAllocator alloc() {
      return ch.alloc();
    }

    @Override
    public void send(Object dest, ByteBuf msg) {
      if (!ch.isWritable()) {
        // The socket buffer is full: drop rather than queue without bound.
        counters.increment(Counter.OVERLOAD_DROPPED);
        msg.release();
        return;
      }
      ch.writeAndFlush(new DatagramPacket(msg, (InetSocketAddress) dest), ch.voidPromise());
    }
  }

  /** Unicast DNS over UDP (port 53): one query per datagram, answered to its sender. */
  public static final class UnicastUdp extends SimpleChannelInboundHandler<DatagramPacket> {
    private final QueryEngine engine;
    private final LinkFilter linkFilter;
    private final ResponderCounts counters;
    private UdpSink sink;

    public UnicastUdp(QueryEngine engine, LinkFilter linkFilter, ResponderCounts counters) {
      this.engine = engine;
      this.linkFilter = linkFilter;
      this.counters = counters;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      sink = new UdpSink(ctx.channel(), counters);
      ctx.fireChannelActive();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
      if (sink == null) {
        sink = new UdpSink(ctx.channel(), counters);
      }
      counters.increment(Counter.UNICAST_UDP_QUERIES);
      InetSocketAddress from = p.sender();
      ByteBuf reply = engine.handleUnicast(p.content(), linkFilter.onLink(from.getAddress(), false), sink, from);
      if (reply != null) {
        sink.send(from, reply);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug("unicast DNS socket error", cause); // a bad packet never closes the socket
    }
  }

  /**
   * Unicast DNS over TCP (RFC 7766), behind a 2-byte length framing: at most {@code maxConnections}
   * at once (beyond: closed and counted), idle ones closed after {@link ResponderHandlers#TCP_IDLE_SECONDS}, a
   * client that does not read its answers closed rather than buffered for.
   */
  public static final class Tcp extends SimpleChannelInboundHandler<ByteBuf> implements ReplySink {
    private final QueryEngine engine;
    private final LinkFilter linkFilter;
    private final ResponderCounts counters;
    private final AtomicInteger connections;
    private final int maxConnections;
    private ChannelHandlerContext ctx;
    private boolean onLink;
    private long lastRead;

    public Tcp(QueryEngine engine, LinkFilter linkFilter, ResponderCounts counters, AtomicInteger connections,
        int maxConnections) {
      this.engine = engine;
      this.linkFilter = linkFilter;
      this.counters = counters;
      this.connections = connections;
      this.maxConnections = maxConnections;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      this.ctx = ctx;
      if (connections.incrementAndGet() > maxConnections) {
        counters.increment(Counter.TCP_REJECTED);
        ctx.close();
        return;
      }
      counters.increment(Counter.TCP_CONNECTIONS);
      InetSocketAddress remote = (InetSocketAddress) ctx.channel().remoteAddress();
      onLink = linkFilter.onLink(remote.getAddress(), false);
      lastRead = System.nanoTime();
      scheduleIdleCheck();
      ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      connections.decrementAndGet();
      ctx.fireChannelInactive();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
      counters.increment(Counter.UNICAST_TCP_QUERIES);
      lastRead = System.nanoTime();
      ByteBuf reply = engine.handleUnicast(frame, onLink, this, null);
      if (reply != null) {
        send(null, reply);
      }
    }

    @Override
    public ByteBufAllocator alloc() {
      return ctx.alloc();
    }

    @Override
    public boolean isStream() {
      return true;
    }

    @Override
    public void send(Object dest, ByteBuf msg) {
      if (!ctx.channel().isActive()) {
        msg.release();
      } else if (!ctx.channel().isWritable()) {
        // A client that sends but does not read: close instead of buffering its answers.
        counters.increment(Counter.TCP_REJECTED);
        msg.release();
        ctx.close();
      } else {
        ctx.writeAndFlush(msg, ctx.voidPromise());
      }
    }

    /** Closes connections idle for {@link ResponderHandlers#TCP_IDLE_SECONDS} (RFC 7766 leaves the timeout to us). */
    private void scheduleIdleCheck() {
      ctx.executor().schedule(() -> {
        if (!ctx.channel().isActive()) {
          return;
        }
        if (System.nanoTime() - lastRead >= TimeUnit.SECONDS.toNanos(TCP_IDLE_SECONDS)) {
          ctx.close();
        } else {
          scheduleIdleCheck();
        }
      }, TCP_IDLE_SECONDS, TimeUnit.SECONDS);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (cause instanceof TooLongFrameException) {
        counters.increment(Counter.TCP_REJECTED);
      }
      ctx.close();
    }
  }

  /**
   * mDNS on port 5353, of one address family: a socket bound to the group ({@code viaMulticast})
   * or to a bridge address (direct unicast queries). Silent until its {@link #output} is set.
   */
  public static final class Mdns extends SimpleChannelInboundHandler<DatagramPacket> {
    private final QueryEngine engine;
    private final LinkFilter linkFilter;
    private final boolean v4;
    private final boolean viaMulticast;
    /** Where replies of this socket go; set once the socket is bound (and joined). */
    public volatile QueryEngine.MdnsOutput output;

    public Mdns(QueryEngine engine, LinkFilter linkFilter, boolean v4, boolean viaMulticast) {
      this.engine = engine;
      this.linkFilter = linkFilter;
      this.v4 = v4;
      this.viaMulticast = viaMulticast;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
      QueryEngine.MdnsOutput out = output;
      if (out == null) {
        return; // not joined yet
      }
      InetSocketAddress from = p.sender();
      if ((from.getAddress() instanceof Inet4Address) != v4) {
        return;
      }
      engine.handleMdns(p.content(), from, viaMulticast, linkFilter.onLink(from.getAddress(), true), out);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug("mDNS socket error", cause);
    }
  }
}
