package io.semnet.resolver.protocol;

import java.util.Objects;

/** Push: a newer version of a record the client is interested in (instance added, removed, moved, metadata changed). */
public record RecordPush(SignedRecord record) implements ControlMessage {
  public RecordPush {
    Objects.requireNonNull(record, "record");
  }

  @Override
  public String type() {
    return "record";
  }
}
