package io.semnet.mdns.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.semnet.mdns.ResponderCounters;
import io.semnet.mdns.ResponderCounters.Counter;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Relays out-of-zone queries to upstream resolvers over UDP and their answers back, byte for byte
 * except the query id (each relayed query gets a fresh random id, so a client cannot choose what the
 * upstream sees, and answers are accepted only from the upstream asked, with the id it was given).
 * Upstreams are tried in order, each once, before the client gets SERVFAIL. Runs on the responder's
 * event loop.
 */
public final class UpstreamForwarder implements QueryEngine.Forwarder {
  private final List<InetSocketAddress> upstreams;
  private final long timeoutMillis;
  private final int maxPending;
  private final EventExecutor loop;
  private final ResponderCounters counters;
  private final Map<Integer, Relay> pending = new HashMap<>();
  private Channel v4;
  private Channel v6;

  public UpstreamForwarder(List<InetSocketAddress> upstreams, long timeoutMillis, int maxPending, EventExecutor loop,
      ResponderCounters counters) {
    this.upstreams = List.copyOf(upstreams);
    this.timeoutMillis = timeoutMillis;
    this.maxPending = maxPending;
    this.loop = loop;
    this.counters = counters;
  }

  /** The channels upstream queries leave from (either may be null if no upstream of that family). */
  public void channels(Channel v4, Channel v6) {
    this.v4 = v4;
    this.v6 = v6;
  }

  private static final class Relay {
    final byte[] query;
    final int clientId;
    final int questionsEnd;
    final ReplySink sink;
    final Object dest;
    int upstream;
    ScheduledFuture<?> timeout;

    Relay(byte[] query, int clientId, int questionsEnd, ReplySink sink, Object dest) {
      this.query = query;
      this.clientId = clientId;
      this.questionsEnd = questionsEnd;
      this.sink = sink;
      this.dest = dest;
    }
  }

  @Override
  public void forward(ByteBuf query, ParsedQuery parsed, ReplySink sink, Object dest) {
    if (pending.size() >= maxPending) {
      counters.increment(Counter.OVERLOAD_DROPPED);
      return;
    }
    byte[] copy = new byte[query.readableBytes()];
    query.getBytes(query.readerIndex(), copy);
    Relay r = new Relay(copy, parsed.id(), parsed.questionsEnd, sink, dest);
    send(r, 0);
  }

  private void send(Relay r, int upstreamIndex) {
    int id;
    do {
      id = ThreadLocalRandom.current().nextInt(0x10000);
    } while (pending.containsKey(id));
    r.upstream = upstreamIndex;
    InetSocketAddress up = upstreams.get(upstreamIndex);
    Channel ch = up.getAddress() instanceof Inet4Address ? v4 : v6;
    if (ch == null) {
      fail(r);
      return;
    }
    pending.put(id, r);
    final int sentId = id;
    r.timeout = loop.schedule(() -> timedOut(sentId, r), timeoutMillis, TimeUnit.MILLISECONDS);
    ByteBuf out = ch.alloc().buffer(r.query.length);
    out.writeBytes(r.query);
    out.setShort(0, id);
    ch.writeAndFlush(new DatagramPacket(out, up));
  }

  private void timedOut(int id, Relay r) {
    if (pending.get(id) != r) {
      return;
    }
    pending.remove(id);
    counters.increment(Counter.FORWARD_TIMEOUTS);
    if (r.upstream + 1 < upstreams.size()) {
      send(r, r.upstream + 1);
    } else {
      fail(r);
    }
  }

  private void fail(Relay r) {
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

  /** An answer arrived on an upstream socket. {@code msg} is not retained. */
  public void onUpstreamPacket(ByteBuf msg, InetSocketAddress sender) {
    if (msg.readableBytes() < 12 || (msg.getByte(msg.readerIndex() + 2) & 0x80) == 0) {
      counters.increment(Counter.FORWARD_UNMATCHED);
      return;
    }
    int id = msg.getUnsignedShort(msg.readerIndex());
    Relay r = pending.get(id);
    if (r == null || !upstreams.get(r.upstream).equals(sender)) {
      counters.increment(Counter.FORWARD_UNMATCHED);
      return;
    }
    pending.remove(id);
    r.timeout.cancel(false);
    ByteBuf out = r.sink.alloc().buffer(msg.readableBytes());
    out.writeBytes(msg, msg.readerIndex(), msg.readableBytes());
    out.setShort(0, r.clientId);
    counters.increment(Counter.FORWARD_RELAYED);
    r.sink.send(r.dest, out);
  }

  public void close() {
    for (Relay r : pending.values()) {
      r.timeout.cancel(false);
    }
    pending.clear();
  }
}
