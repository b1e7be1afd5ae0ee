package io.semnet.resolver.protocol;

import java.util.Objects;

/** Push: the service was removed (or the client may no longer see it). */
public record RemovalPush(SignedRemoval removal) implements ControlMessage {
  public RemovalPush {
    Objects.requireNonNull(removal, "removal");
  }

  @Override
  public String type() {
    return "removal";
  }
}
