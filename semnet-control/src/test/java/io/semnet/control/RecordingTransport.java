package io.semnet.control;

import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.transport.ClientChannel;
import io.semnet.resolver.transport.ControlTransport;
import io.semnet.resolver.transport.PushHandler;
import io.semnet.resolver.transport.RequestHandler;
import io.semnet.resolver.transport.ServerBinding;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

/** Wraps any transport and records every request a manager receives, to count queries in tests. */
public final class RecordingTransport implements ControlTransport {
  record Seen(String managerId, String clientId, ControlMessage message) {}

  private final ControlTransport delegate;
  public final List<Seen> requests = new CopyOnWriteArrayList<>();

  public RecordingTransport(ControlTransport delegate) {
    this.delegate = delegate;
  }

  <T extends ControlMessage> List<T> received(String managerId, Class<T> type) {
    return requests.stream().filter(s -> s.managerId().equals(managerId) && type.isInstance(s.message()))
        .map(s -> type.cast(s.message())).collect(Collectors.toList());
  }

  @Override
  public ServerBinding bind(String managerId, RequestHandler handler) {
    return delegate.bind(managerId, (client, m) -> {
      requests.add(new Seen(managerId, client, m));
      return handler.onRequest(client, m);
    });
  }

  @Override
  public ClientChannel connect(String managerId, String clientId, PushHandler pushHandler) {
    ClientChannel c = delegate.connect(managerId, clientId, pushHandler);
    return new ClientChannel() {
      @Override
      public String clientId() {
        return c.clientId();
      }

      @Override
      public CompletionStage<ControlMessage> request(ControlMessage request, Duration timeout) {
        return c.request(request, timeout);
      }

      @Override
      public void close() {
        c.close();
      }
    };
  }

  @Override
  public void close() {
    delegate.close();
  }
}
