package io.semnet.resolver.protocol;

import java.util.Objects;

/**
 * Answer to {@link Hello}: the current root-signed isolation rules and, if the manager has one,
 * the root's latest signed heartbeat (null otherwise), so a fresh or restarted node learns the
 * version floors before it believes any record.
 */
public record HelloReply(SignedRules rules, SignedHeartbeat heartbeat) implements ControlMessage {
  public HelloReply {
    Objects.requireNonNull(rules, "rules");
  }

  /** A reply without a heartbeat. */
  public HelloReply(SignedRules rules) {
    this(rules, null);
  }

  @Override
  public String type() {
    return "hello-reply";
  }
}
