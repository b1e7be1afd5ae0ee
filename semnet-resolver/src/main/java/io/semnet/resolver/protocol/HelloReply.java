package io.semnet.resolver.protocol;

import java.util.Objects;

/** Answer to {@link Hello}: the current root-signed isolation rules. */
public record HelloReply(SignedRules rules) implements ControlMessage {
  public HelloReply {
    Objects.requireNonNull(rules, "rules");
  }

  @Override
  public String type() {
    return "hello-reply";
  }
}
