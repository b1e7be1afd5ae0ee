package io.semnet.resolver.transport;

import io.semnet.resolver.internal.OrderedExecutor;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.ErrorReply;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control protocol by direct calls inside one JVM, for embedding (a root, a cluster and N
 * workers in one process) and for tests. Messages are handed over as objects (or, with
 * {@link Builder#codec}, passed through a codec on every hop to exercise a wire format), on a small
 * pool of transport threads, so callers never run handlers on their own thread, as with a network.
 *
 * <p>For fault injection, {@link #setReachable} cuts a manager off as a network partition would:
 * requests to it fail and its pushes are dropped, while it keeps running.
 */
public final class InProcessTransport implements ControlTransport {
  private static final Logger log = LoggerFactory.getLogger(InProcessTransport.class);

  private final ExecutorService pool;
  private final UnaryOperator<ControlMessage> codec;
  private final int maxQueuedRequests;
  private final AtomicLong overloaded = new AtomicLong();
  private final Map<String, Binding> bindings = new ConcurrentHashMap<>();
  private final Map<String, Map<String, Channel>> channels = new ConcurrentHashMap<>();
  private final Set<String> cut = ConcurrentHashMap.newKeySet();
  private final java.util.List<LivenessListener> liveness = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile boolean closed;

  private InProcessTransport(Builder b) {
    AtomicInteger n = new AtomicInteger();
    this.pool = Executors.newFixedThreadPool(b.threads, r -> {
      Thread t = new Thread(r, "semnet-inproc-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    this.codec = b.codec;
    this.maxQueuedRequests = b.maxQueuedRequests;
  }

  /** Requests refused with {@code OVERLOADED} because their client's request queue was full. */
  public long overloadedRequests() {
    return overloaded.get();
  }

  /** A transport with two threads and no codec. */
  public static InProcessTransport create() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Cuts ({@code false}) or restores ({@code true}) identity {@code id} off the network: requests to
   * it or from it fail, pushes from it or to it are lost, as in a partition.
   */
  public void setReachable(String managerId, boolean reachable) {
    if (reachable) {
      cut.remove(managerId);
    } else {
      cut.add(managerId);
    }
  }

  /**
   * Announces that node {@code nodeId} is alive or gone, as a network transport learns it from a
   * connection (or its loss): every {@link #watchLiveness} listener is told, on the calling thread
   * (so calls are seen in order).
   */
  public void setAlive(String nodeId, boolean alive) {
    for (LivenessListener l : liveness) {
      l.onLiveness(nodeId, alive);
    }
  }

  @Override
  public AutoCloseable watchLiveness(LivenessListener listener) {
    Objects.requireNonNull(listener, "listener");
    liveness.add(listener);
    return () -> liveness.remove(listener);
  }

  @Override
  public ServerBinding bind(String managerId, RequestHandler handler) {
    Objects.requireNonNull(managerId, "managerId");
    Objects.requireNonNull(handler, "handler");
    Binding b = new Binding(managerId, handler);
    if (bindings.putIfAbsent(managerId, b) != null) {
      throw new IllegalStateException("manager id '" + managerId + "' is already bound");
    }
    return b;
  }

  @Override
  public ClientChannel connect(String managerId, String clientId, PushHandler pushHandler) {
    Channel c = new Channel(managerId, clientId, pushHandler);
    channels.computeIfAbsent(managerId, k -> new ConcurrentHashMap<>()).put(clientId, c);
    return c;
  }

  @Override
  public void close() {
    closed = true;
    bindings.clear();
    channels.clear();
    pool.shutdownNow();
  }

  private ControlMessage hop(ControlMessage m) {
    return codec == null ? m : codec.apply(m);
  }

  private final class Binding implements ServerBinding {
    private final String managerId;
    private final RequestHandler handler;

    Binding(String managerId, RequestHandler handler) {
      this.managerId = managerId;
      this.handler = handler;
    }

    @Override
    public String managerId() {
      return managerId;
    }

    @Override
    public boolean push(String clientId, ControlMessage message) {
      if (closed || cut.contains(managerId) || cut.contains(clientId) || bindings.get(managerId) != this) {
        return false;
      }
      Map<String, Channel> cs = channels.get(managerId);
      Channel c = cs == null ? null : cs.get(clientId);
      if (c == null || c.closed) {
        return false;
      }
      c.deliver(message);
      return true;
    }

    @Override
    public void close() {
      bindings.remove(managerId, this);
    }
  }

  private final class Channel implements ClientChannel {
    private final String managerId;
    private final String clientId;
    private final PushHandler pushHandler;
    // Pushes to one client run one at a time, in order, on the shared pool.
    private final OrderedExecutor deliveries;
    // This client's requests wait here (bounded) and run one at a time: a flooding client fills only its own queue.
    private final OrderedExecutor requests;
    private volatile boolean closed;

    Channel(String managerId, String clientId, PushHandler pushHandler) {
      this.managerId = managerId;
      this.clientId = clientId;
      this.pushHandler = pushHandler;
      this.deliveries = new OrderedExecutor(pool, () -> !closed, "client " + clientId);
      this.requests = new OrderedExecutor(pool, () -> true, "requests of " + clientId, maxQueuedRequests);
    }

    @Override
    public String clientId() {
      return clientId;
    }

    void deliver(ControlMessage m) {
      deliveries.execute(() -> pushHandler.onPush(hop(m)));
    }

    @Override
    public CompletionStage<ControlMessage> request(ControlMessage request, Duration timeout) {
      CompletableFuture<ControlMessage> reply = new CompletableFuture<>();
      Binding b = bindings.get(managerId);
      if (closed || InProcessTransport.this.closed || b == null || cut.contains(managerId) || cut.contains(clientId)) {
        CompletableFuture<ControlMessage> failed = new CompletableFuture<>();
        try {
          pool.execute(() -> failed.completeExceptionally(new TransportException("manager '" + managerId + "' is unreachable")));
        } catch (RuntimeException e) {
          failed.completeExceptionally(new TransportException("transport closed"));
        }
        return failed;
      }
      try {
        boolean queued = requests.offer(() -> {
          try {
            b.handler.onRequest(clientId, hop(request)).whenComplete((r, e) -> {
              if (cut.contains(managerId)) {
                reply.completeExceptionally(new TransportException("manager '" + managerId + "' became unreachable"));
              } else if (e != null) {
                Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                reply.complete(new ErrorReply(String.valueOf(cause.getMessage())));
              } else {
                reply.complete(hop(r));
              }
            });
          } catch (RuntimeException e) {
            reply.complete(new ErrorReply(String.valueOf(e.getMessage())));
          }
        });
        if (!queued) {
          overloaded.incrementAndGet();
          reply.complete(new ErrorReply(ErrorReply.OVERLOADED,
              "request queue of '" + clientId + "' is full (" + maxQueuedRequests + ")"));
        }
      } catch (RuntimeException e) {
        reply.completeExceptionally(new TransportException("transport closed"));
      }
      return reply.orTimeout(timeout.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS)
          .exceptionallyCompose(e -> {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof TimeoutException) {
              return CompletableFuture.failedFuture(new TransportException("no reply from '" + managerId + "' within " + timeout));
            }
            return CompletableFuture.failedFuture(cause);
          });
    }

    @Override
    public void close() {
      closed = true;
      Map<String, Channel> cs = channels.get(managerId);
      if (cs != null) {
        cs.remove(clientId, this);
      }
    }
  }

  /** Configures an {@link InProcessTransport}. */
  public static final class Builder {
    private int threads = 2;
    private UnaryOperator<ControlMessage> codec;
    private int maxQueuedRequests = 4_096;

    private Builder() {}

    /**
     * Requests of one client waiting for a transport thread (default 4,096: a cluster at the root forwards all its workers' misses); each client's requests
     * run one at a time. A request past it is answered at once with {@code ErrorReply}
     * {@code OVERLOADED} and counted ({@link InProcessTransport#overloadedRequests()}).
     */
    public Builder maxQueuedRequests(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxQueuedRequests must be >= 1");
      }
      this.maxQueuedRequests = max;
      return this;
    }

    /** Transport threads (default 2). */
    public Builder threads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("threads must be >= 1");
      }
      this.threads = threads;
      return this;
    }

    /** Passes every message through {@code codec} (e.g. encode then decode) on each hop. */
    public Builder codec(UnaryOperator<ControlMessage> codec) {
      this.codec = codec;
      return this;
    }

    public InProcessTransport build() {
      return new InProcessTransport(this);
    }
  }
}
