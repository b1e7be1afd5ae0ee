package io.semnet.bench.migration;

import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.Query;
import io.semnet.resolver.protocol.WireCodec;
import io.semnet.resolver.transport.ClientChannel;
import io.semnet.resolver.transport.ControlTransport;
import io.semnet.resolver.transport.PushHandler;
import io.semnet.resolver.transport.RequestHandler;
import io.semnet.resolver.transport.ServerBinding;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.LongAdder;

/**
 * A {@link ControlTransport} decorator that counts every control message crossing it: requests
 * (and Query requests among them) and replies as the clients see them, pushes as the managers send
 * them, each with its size in the resolver's JSON wire form ({@link WireCodec}).
 *
 * <p>Counting is cheap on the message path (an increment and a queue append); the encoding that
 * yields the sizes happens only in {@link #snapshot()}, so measuring bytes does not slow down what
 * is being timed. Each message is counted once (client side for requests and replies, manager side
 * for pushes). Thread-safe.
 */
public final class CountingTransport implements ControlTransport {
  /** Totals since the last {@link #reset()}. */
  public record Counts(long requests, long queries, long replies, long pushes, long requestBytes,
      long replyBytes, long pushBytes) {
    public long messages() {
      return requests + replies + pushes;
    }

    public long bytes() {
      return requestBytes + replyBytes + pushBytes;
    }
  }

  private final ControlTransport inner;
  private final Object drainLock = new Object();
  private final LongAdder requests = new LongAdder();
  private final LongAdder queries = new LongAdder();
  private final LongAdder replies = new LongAdder();
  private final LongAdder pushes = new LongAdder();
  private final Queue<ControlMessage> requestLog = new ConcurrentLinkedQueue<>();
  private final Queue<ControlMessage> replyLog = new ConcurrentLinkedQueue<>();
  private final Queue<ControlMessage> pushLog = new ConcurrentLinkedQueue<>();
  private long requestBytes;
  private long replyBytes;
  private long pushBytes;

  public CountingTransport(ControlTransport inner) {
    this.inner = inner;
  }

  /** The decorated transport. */
  public ControlTransport inner() {
    return inner;
  }

  @Override
  public ServerBinding bind(String managerId, RequestHandler handler) {
    ServerBinding b = inner.bind(managerId, handler);
    return new ServerBinding() {
      @Override
      public String managerId() {
        return b.managerId();
      }

      @Override
      public boolean push(String clientId, ControlMessage message) {
        pushes.increment();
        pushLog.add(message);
        return b.push(clientId, message);
      }

      @Override
      public void close() {
        b.close();
      }
    };
  }

  @Override
  public ClientChannel connect(String managerId, String clientId, PushHandler pushHandler) {
    ClientChannel c = inner.connect(managerId, clientId, pushHandler);
    return new ClientChannel() {
      @Override
      public String clientId() {
        return c.clientId();
      }

      @Override
      public CompletionStage<ControlMessage> request(ControlMessage request, Duration timeout) {
        requests.increment();
        if (request instanceof Query) {
          queries.increment();
        }
        requestLog.add(request);
        return c.request(request, timeout).thenApply(reply -> {
          replies.increment();
          replyLog.add(reply);
          return reply;
        });
      }

      @Override
      public void close() {
        c.close();
      }
    };
  }

  /** Totals since the last reset; encodes the messages logged since the last snapshot to size them. */
  public Counts snapshot() {
    synchronized (drainLock) {
      requestBytes += drain(requestLog);
      replyBytes += drain(replyLog);
      pushBytes += drain(pushLog);
      return new Counts(requests.sum(), queries.sum(), replies.sum(), pushes.sum(), requestBytes, replyBytes, pushBytes);
    }
  }

  /** Zeroes every counter (e.g. after set-up, before the measured phase). */
  public void reset() {
    synchronized (drainLock) {
      requestLog.clear();
      replyLog.clear();
      pushLog.clear();
      requests.reset();
      queries.reset();
      replies.reset();
      pushes.reset();
      requestBytes = 0;
      replyBytes = 0;
      pushBytes = 0;
    }
  }

  private static long drain(Queue<ControlMessage> q) {
    long n = 0;
    ControlMessage m;
    while ((m = q.poll()) != null) {
      n += WireCodec.encode(m).length;
    }
    return n;
  }

  @Override
  public void close() {
    inner.close();
  }
}
