package io.semnet.resolver.protocol;

import java.util.List;

/** Answer to {@link Renew}: newer records, and removals for services that are gone or no longer visible. */
public record RenewReply(List<SignedRecord> newer, List<SignedRemoval> gone) implements ControlMessage {
  public RenewReply {
    newer = List.copyOf(newer);
    gone = List.copyOf(gone);
  }

  @Override
  public String type() {
    return "renew-reply";
  }
}
