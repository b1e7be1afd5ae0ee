package io.semnet.mdns.internal;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.util.concurrent.ScheduledFuture;
import io.semnet.mdns.ResponderCounters;
import io.semnet.mdns.ResponderCounters.Counter;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.security.SecureRandom;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Relays out-of-zone queries to upstream resolvers and their answers back, byte for byte except the
 * query id, hardened against off-path spoofing (RFC 5452):
 * <ul>
 *   <li>every attempt leaves from its own UDP socket bound to a fresh ephemeral port (the kernel
 *       picks it at random), closed when the attempt ends;</li>
 *   <li>every attempt carries a fresh 16-bit id from {@link SecureRandom}, so neither the client nor
 *       an observer of earlier ids can predict it;</li>
 *   <li>an answer is accepted only if it is a response from the upstream's address and port with the
 *       attempt's id and exactly the query's question (name case-insensitively, type, class);
 *       anything else reaching the socket is counted and dropped, and the attempt keeps waiting for
 *       the right answer until its timeout;</li>
 *   <li>a truncated (TC) answer is retried over TCP to the same upstream with a fresh id and the same
 *       checks; the TCP answer is relayed if it fits the client's transport (TCP, or its EDNS UDP
 *       size, at least 512 bytes), else the truncated answer is, so the client retries over TCP; if
 *       the TCP attempt fails the truncated answer is relayed;</li>
 *   <li>at most {@code maxOutstanding} client queries are in flight; beyond that a query is answered
 *       SERVFAIL at once and counted.</li>
 * </ul>
 * Upstreams are tried in order, each once, before the client gets SERVFAIL. Everything runs on the
 * responder's event loop and nothing blocks it: sockets are opened, bound, connected and closed
 * asynchronously.
 */
public final class UpstreamForwarder implements QueryEngine.Forwarder {
  /** Opens the sockets upstream queries leave from. */
  public interface Transport {
    /** A UDP channel of the given family. */
    ChannelFactory<? extends Channel> udp(boolean v4);

    /** A TCP client channel of the given family. */
    ChannelFactory<? extends Channel> tcp(boolean v4);
  }

  private static final int MAX_TCP_MESSAGE = 65535;
  private static final InetSocketAddress ANY_V4 = wildcard("0.0.0.0");
  private static final InetSocketAddress ANY_V6 = wildcard("::");

  private final List<InetSocketAddress> upstreams;
  private final long timeoutMillis;
  private final int maxOutstanding;
  private final EventLoop loop;
  private final ResponderCounts counters;
  private final Transport transport;
  private final SecureRandom random = new SecureRandom();
  private final ParsedQuery scratch = new ParsedQuery();
  private final Set<Relay> outstanding = new HashSet<>();
  private boolean closed;

  public UpstreamForwarder(List<InetSocketAddress> upstreams, long timeoutMillis, int maxOutstanding, EventLoop loop,
      ResponderCounts counters, Transport transport) {
    this.upstreams = List.copyOf(upstreams);
    this.timeoutMillis = timeoutMillis;
    this.maxOutstanding = maxOutstanding;
    this.loop = loop;
    this.counters = counters;
    this.transport = transport;
  }

  private static InetSocketAddress wildcard(String literal) {
    try {
      return new InetSocketAddress(InetAddress.getByName(literal), 0);
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  /** One client query being relayed. */
  private static final class Relay {
    final byte[] query;
    final int clientId;
    final int questionsEnd;
    final byte[] name;
    final int type;
    final int qclass;
    final ReplySink sink;
    final Object dest;
    int upstream;
    Attempt attempt;
    byte[] truncated;

    Relay(byte[] query, ParsedQuery parsed, ReplySink sink, Object dest) {
      this.query = query;
      this.clientId = parsed.id();
      this.questionsEnd = parsed.questionsEnd;
      this.name = parsed.keyCopy(0);
      this.type = parsed.types[0];
      this.qclass = parsed.classes[0];
      this.sink = sink;
      this.dest = dest;
    }
  }

  /** One try at one upstream, over UDP or TCP, on its own socket. */
  private final class Attempt extends SimpleChannelInboundHandler<Object> {
    final Relay relay;
    final InetSocketAddress upstream;
    final int id;
    final boolean tcp;
    Channel channel;
    ScheduledFuture<?> timeout;
    boolean done;

    Attempt(Relay relay, InetSocketAddress upstream, int id, boolean tcp) {
      this.relay = relay;
      this.upstream = upstream;
      this.id = id;
      this.tcp = tcp;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof DatagramPacket) {
        DatagramPacket p = (DatagramPacket) msg;
        onAnswer(this, p.content(), p.sender());
      } else if (msg instanceof ByteBuf) {
        onAnswer(this, (ByteBuf) msg, upstream); // a TCP connection has one peer
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (tcp) {
        failed(this); // the upstream closed the connection before answering
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      failed(this);
    }
  }

  @Override
  public void forward(ByteBuf query, ParsedQuery parsed, ReplySink sink, Object dest) {
    byte[] copy = new byte[query.readableBytes()];
    query.getBytes(query.readerIndex(), copy);
    Relay r = new Relay(copy, parsed, sink, dest);
    if (closed || outstanding.size() >= maxOutstanding) {
      counters.increment(Counter.FORWARD_OVERLOAD);
      servfail(r);
      return;
    }
    outstanding.add(r);
    tryUpstream(r, 0);
  }

  /** Number of client queries being relayed (for tests and monitoring). */
  public int outstanding() {
    return outstanding.size();
  }

  private void tryUpstream(Relay r, int index) {
    if (index >= upstreams.size()) {
      outstanding.remove(r);
      servfail(r);
      return;
    }
    r.upstream = index;
    start(r, false);
  }

  private void start(Relay r, boolean tcp) {
    InetSocketAddress up = upstreams.get(r.upstream);
    boolean v4 = up.getAddress() instanceof Inet4Address;
    Attempt a = new Attempt(r, up, random.nextInt(0x10000), tcp);
    r.attempt = a;
    a.timeout = loop.schedule(() -> timedOut(a), timeoutMillis, TimeUnit.MILLISECONDS);
    Bootstrap b = new Bootstrap().group(loop).channelFactory(tcp ? transport.tcp(v4) : transport.udp(v4));
    ChannelFuture f;
    if (tcp) {
      b.option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeoutMillis));
      b.handler(new ChannelInitializer<Channel>() {
        @Override
        protected void initChannel(Channel ch) {
          ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(MAX_TCP_MESSAGE + 2, 0, 2, 0, 2), a);
        }
      });
      f = b.connect(up);
    } else {
      f = b.handler(a).bind(v4 ? ANY_V4 : ANY_V6);
    }
    a.channel = f.channel();
    f.addListener(done -> onLoop(() -> {
      if (!done.isSuccess()) {
        failed(a);
      } else if (!a.done) {
        send(a);
      }
    }));
  }

  private void send(Attempt a) {
    byte[] q = a.relay.query;
    ByteBuf out = a.channel.alloc().buffer(q.length + 2);
    if (a.tcp) {
      out.writeShort(q.length);
    }
    int idAt = out.writerIndex();
    out.writeBytes(q);
    out.setShort(idAt, a.id);
    Object msg = a.tcp ? out : new DatagramPacket(out, a.upstream);
    a.channel.writeAndFlush(msg).addListener(w -> {
      if (!w.isSuccess()) {
        onLoop(() -> failed(a));
      }
    });
  }

  private void onLoop(Runnable task) {
    if (loop.inEventLoop()) {
      task.run();
    } else {
      loop.execute(task);
    }
  }

  private void onAnswer(Attempt a, ByteBuf msg, InetSocketAddress sender) {
    if (a.done) {
      counters.increment(Counter.FORWARD_UNMATCHED); // raced with the end of the attempt
      return;
    }
    if (!a.upstream.equals(sender)) {
      counters.increment(Counter.FORWARD_WRONG_SOURCE);
      return;
    }
    Relay r = a.relay;
    switch (UpstreamAnswers.check(msg, a.id, r.name, r.type, r.qclass, scratch)) {
      case UpstreamAnswers.MATCH:
        break;
      case UpstreamAnswers.WRONG_ID:
        counters.increment(Counter.FORWARD_WRONG_ID);
        return;
      case UpstreamAnswers.WRONG_QUESTION:
        counters.increment(Counter.FORWARD_WRONG_QUESTION);
        return;
      default:
        counters.increment(Counter.FORWARD_UNMATCHED);
        return;
    }
    end(a);
    if (!a.tcp && UpstreamAnswers.truncated(msg)) {
      r.truncated = new byte[msg.readableBytes()];
      msg.getBytes(msg.readerIndex(), r.truncated);
      counters.increment(Counter.FORWARD_TCP_RETRIES);
      start(r, true);
      return;
    }
    if (a.tcp && !r.sink.isStream() && msg.readableBytes() > UpstreamAnswers.udpLimit(r.query, r.questionsEnd)) {
      relay(r, r.truncated); // too big for the client's UDP: it retries over TCP
      return;
    }
    byte[] bytes = new byte[msg.readableBytes()];
    msg.getBytes(msg.readerIndex(), bytes);
    relay(r, bytes);
  }

  private void timedOut(Attempt a) {
    if (a.done) {
      return;
    }
    counters.increment(Counter.FORWARD_TIMEOUTS);
    giveUp(a);
  }

  private void failed(Attempt a) {
    if (a.done) {
      return;
    }
    counters.increment(Counter.FORWARD_ERRORS);
    giveUp(a);
  }

  private void giveUp(Attempt a) {
    end(a);
    Relay r = a.relay;
    if (closed) {
      return;
    }
    if (a.tcp) {
      relay(r, r.truncated); // the client can still retry over TCP itself
    } else {
      tryUpstream(r, r.upstream + 1);
    }
  }

  private static void end(Attempt a) {
    a.done = true;
    a.timeout.cancel(false);
    a.channel.close();
  }

  private void relay(Relay r, byte[] answer) {
    outstanding.remove(r);
    ByteBuf out = r.sink.alloc().buffer(answer.length);
    out.writeBytes(answer);
    out.setShort(0, r.clientId);
    counters.increment(Counter.FORWARD_RELAYED);
    r.sink.send(r.dest, out);
  }

  private void servfail(Relay r) {
    counters.increment(Counter.SERVFAIL);
    ByteBuf out = r.sink.alloc().buffer(r.questionsEnd);
    out.writeShort(r.clientId);
    int flags = ((r.query[2] & 0xff) << 8) | (r.query[3] & 0xff);
    out.writeShort(0x8000 | (flags & 0x7900) | 0x0080 | QueryEngine.RCODE_SERVFAIL);
    out.writeShort(1);
    out.writeShort(0);
    out.writeShort(0);
    out.writeShort(0);
    out.writeBytes(r.query, 12, r.questionsEnd - 12);
    r.sink.send(r.dest, out);
  }

  /** Ends every attempt (closing its socket); the waiting clients get no answer. Call on the loop. */
  public void close() {
    closed = true;
    for (Relay r : outstanding) {
      if (r.attempt != null && !r.attempt.done) {
        end(r.attempt);
      }
    }
    outstanding.clear();
  }
}
