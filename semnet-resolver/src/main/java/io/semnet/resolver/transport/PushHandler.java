package io.semnet.resolver.transport;

import io.semnet.resolver.protocol.ControlMessage;

/** A client's receiver of pushes from its manager. Called on transport threads; must not block. */
@FunctionalInterface
public interface PushHandler {
  void onPush(ControlMessage push);
}
