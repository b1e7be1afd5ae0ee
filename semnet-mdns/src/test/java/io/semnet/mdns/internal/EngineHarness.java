package io.semnet.mdns.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.DefaultEventLoop;
import io.semnet.core.policy.RoutingPolicyRegistry;
import io.semnet.mdns.testing.FakeResolver;
import io.semnet.mdns.testing.Wire;
import java.net.InetSocketAddress;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A query engine on its own event loop with a fake resolver and a sink that records replies. */
final class EngineHarness implements AutoCloseable {
  static final InetSocketAddress GROUP = new InetSocketAddress("224.0.0.251", 5353);

  /** One reply the engine sent. */
  record Sent(Object dest, byte[] bytes) {}

  final DefaultEventLoop loop = new DefaultEventLoop();
  final FakeResolver resolver = new FakeResolver();
  final ResponderCounts counters = new ResponderCounts();
  final BlockingQueue<Sent> sent = new LinkedBlockingQueue<>();
  final ReplySink sink = new ReplySink() {
    @Override
    public ByteBufAllocator alloc() {
      return UnpooledByteBufAllocator.DEFAULT;
    }

    @Override
    public void send(Object dest, ByteBuf msg) {
      byte[] b = new byte[msg.readableBytes()];
      msg.readBytes(b);
      msg.release();
      sent.add(new Sent(dest, b));
    }
  };
  final QueryEngine.MdnsOutput output = new QueryEngine.MdnsOutput(sink, GROUP);
  final QueryEngine engine;

  EngineHarness(RoutingPolicyRegistry policies, QueryEngine.Forwarder forwarder, long resolveTimeoutMillis) {
    this(policies, forwarder, resolveTimeoutMillis, TimeUnit.SECONDS.toNanos(60));
  }

  EngineHarness(RoutingPolicyRegistry policies, QueryEngine.Forwarder forwarder, long resolveTimeoutMillis, long refreshNanos) {
    EngineConfig cfg = new EngineConfig(30, TimeUnit.SECONDS.toNanos(5), refreshNanos,
        resolveTimeoutMillis, 1024, 64, 10_000, 512, 9000, false, false);
    engine = new QueryEngine(cfg, resolver, policies::contains, loop, counters, forwarder);
    on(() -> {
      engine.addMulticastOutput(output);
      return null;
    });
    resolver.addListener(new io.semnet.core.route.RouteListener() {
      @Override
      public void onRecordUpdated(io.semnet.core.record.ServiceRecord previous, io.semnet.core.record.ServiceRecord current) {
        loop.execute(() -> engine.onRecordUpdated(current));
      }

      @Override
      public void onServiceRemoved(io.semnet.core.service.ServiceId service) {
        loop.execute(() -> engine.onServiceRemoved(service));
      }
    });
  }

  <T> T on(Callable<T> c) {
    try {
      return loop.submit(c).get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Sends a unicast query; returns the immediate reply or null. */
  byte[] unicast(byte[] query, boolean onLink) {
    return on(() -> {
      ByteBuf r = engine.handleUnicast(Wire.buf(query), onLink, sink, "client");
      if (r == null) {
        return null;
      }
      byte[] b = new byte[r.readableBytes()];
      r.readBytes(b);
      r.release();
      return b;
    });
  }

  /** Sends a unicast query and waits for its reply, immediate or later. */
  byte[] ask(byte[] query) {
    byte[] now = unicast(query, true);
    if (now != null) {
      return now;
    }
    Sent s = next(3000);
    return s == null ? null : s.bytes;
  }

  void mdns(byte[] query, InetSocketAddress sender) {
    on(() -> {
      engine.handleMdns(Wire.buf(query), sender, true, true, output);
      return null;
    });
  }

  Sent next(long millis) {
    try {
      return sent.poll(millis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** Waits until every task queued on the loop so far has run. */
  void drain() {
    on(() -> null);
  }

  @Override
  public void close() {
    on(() -> {
      engine.close();
      return null;
    });
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    resolver.close();
  }
}
