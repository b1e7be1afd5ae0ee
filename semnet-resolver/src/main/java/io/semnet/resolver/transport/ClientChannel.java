package io.semnet.resolver.transport;

import io.semnet.resolver.protocol.ControlMessage;
import java.time.Duration;
import java.util.concurrent.CompletionStage;

/** A client's channel to its manager. */
public interface ClientChannel extends AutoCloseable {
  /** The client id the manager sees. */
  String clientId();

  /**
   * Sends a request. The stage completes with the reply, or exceptionally with
   * {@link TransportException} if the manager is unreachable or did not answer within
   * {@code timeout}. Completes on a transport thread.
   */
  CompletionStage<ControlMessage> request(ControlMessage request, Duration timeout);

  /** Stops pushes to this client and releases the channel. */
  @Override
  void close();
}
