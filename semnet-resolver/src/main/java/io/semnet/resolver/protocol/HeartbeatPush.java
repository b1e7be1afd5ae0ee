package io.semnet.resolver.protocol;

import java.util.Objects;

/** Push: the root's latest signed freshness statement, forwarded unchanged by managers. */
public record HeartbeatPush(SignedHeartbeat heartbeat) implements ControlMessage {
  public HeartbeatPush {
    Objects.requireNonNull(heartbeat, "heartbeat");
  }

  @Override
  public String type() {
    return "heartbeat";
  }
}
