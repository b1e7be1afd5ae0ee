package io.semnet.resolver.protocol;

import java.util.Objects;

/** Push: the root's latest signed certificate revocation list (also sent right after a hello). */
public record RevocationsPush(SignedRevocations revocations) implements ControlMessage {
  public RevocationsPush {
    Objects.requireNonNull(revocations, "revocations");
  }

  @Override
  public String type() {
    return "revocations";
  }
}
