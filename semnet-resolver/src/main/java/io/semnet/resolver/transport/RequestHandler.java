package io.semnet.resolver.transport;

import io.semnet.resolver.protocol.ControlMessage;
import java.util.concurrent.CompletionStage;

/** A manager's side of a binding: answers each request of a client with exactly one reply. */
@FunctionalInterface
public interface RequestHandler {
  /**
   * @param clientId the authenticated id of the asking client
   * @return the reply; an exceptional completion is sent to the client as an {@code ErrorReply}
   */
  CompletionStage<ControlMessage> onRequest(String clientId, ControlMessage request);
}
