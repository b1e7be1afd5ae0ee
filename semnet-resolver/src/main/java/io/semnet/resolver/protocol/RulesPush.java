package io.semnet.resolver.protocol;

import java.util.Objects;

/** Push: new root-signed isolation rules (a grant was added or revoked). */
public record RulesPush(SignedRules rules) implements ControlMessage {
  public RulesPush {
    Objects.requireNonNull(rules, "rules");
  }

  @Override
  public String type() {
    return "rules";
  }
}
