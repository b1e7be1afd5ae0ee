package io.semnet.resolver.internal;

import io.semnet.core.record.GeoPoint;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.ErrorReply;
import io.semnet.resolver.protocol.Hello;
import io.semnet.resolver.protocol.HelloReply;
import io.semnet.resolver.protocol.Role;
import io.semnet.resolver.transport.ClientChannel;
import io.semnet.resolver.transport.ControlTransport;
import io.semnet.resolver.transport.PushHandler;
import io.semnet.resolver.transport.TransportException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * A client's link to its manager, shared by workers and cluster managers: says hello when the
 * manager does not know it (first contact, manager restart), tracks whether the manager answers
 * (online), and reports every failure as {@link TransportException}.
 */
public final class UpstreamLink implements AutoCloseable {
  private final ClientChannel channel;
  private final String clientId;
  private final Role role;
  private final GeoPoint location;
  private final Duration timeout;
  private final Consumer<HelloReply> onHello;
  private volatile boolean online;
  private volatile boolean greeted;
  private volatile boolean failed;

  public UpstreamLink(ControlTransport transport, String managerId, String clientId, Role role, GeoPoint location,
      Duration timeout, PushHandler pushes, Consumer<HelloReply> onHello) {
    this.clientId = clientId;
    this.role = role;
    this.location = location;
    this.timeout = timeout;
    this.onHello = onHello;
    this.channel = transport.connect(managerId, clientId, pushes);
  }

  /** True once the manager answered and until a request fails. */
  public boolean isOnline() {
    return online;
  }

  /** True if the last request failed (false before the first attempt: unknown is not offline). */
  public boolean lastFailed() {
    return failed;
  }

  /** Sends hello (also the liveness probe); completes true if the manager answered. */
  public CompletionStage<Boolean> hello() {
    return raw(new Hello(clientId, role, location)).handle((r, e) -> {
      if (e == null && r instanceof HelloReply) {
        greeted = true;
        onHello.accept((HelloReply) r);
        return true;
      }
      return false;
    });
  }

  /** Sends a request, greeting first if needed; fails with TransportException when the manager is unreachable. */
  public CompletionStage<ControlMessage> request(ControlMessage m) {
    CompletionStage<Boolean> ready = greeted ? CompletableFuture.completedFuture(true) : hello();
    return ready.thenCompose(ok -> {
      if (!ok) {
        return CompletableFuture.failedFuture(new TransportException("manager unreachable"));
      }
      return raw(m).thenCompose(r -> {
        if (r instanceof ErrorReply && ErrorReply.HELLO_REQUIRED.equals(((ErrorReply) r).reason())) {
          greeted = false;
          return hello().thenCompose(ok2 -> ok2 ? raw(m) : CompletableFuture.failedFuture(new TransportException("manager unreachable")));
        }
        return CompletableFuture.completedFuture(r);
      });
    });
  }

  private CompletionStage<ControlMessage> raw(ControlMessage m) {
    return channel.request(m, timeout).handle((r, e) -> {
      if (e != null) {
        online = false;
        failed = true;
        greeted = false;
        Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        throw c instanceof TransportException ? (TransportException) c : new TransportException(String.valueOf(c.getMessage()), c);
      }
      online = true;
      failed = false;
      return r;
    });
  }

  @Override
  public void close() {
    channel.close();
  }
}
