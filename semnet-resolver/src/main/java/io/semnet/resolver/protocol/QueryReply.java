package io.semnet.resolver.protocol;

import java.util.Objects;

/**
 * Answer to a {@link Query}: {@code FOUND} with the (possibly k-pruned) signed record of the
 * service the key belongs to; {@code NOT_FOUND} when no such route exists or the asker may not see
 * it (the two are indistinguishable on purpose); {@code UNAVAILABLE} when the manager could not ask
 * its own upstream.
 */
public record QueryReply(Status status, SignedRecord record, String reason) implements ControlMessage {
  /** Outcome of a query. */
  public enum Status {
    FOUND,
    NOT_FOUND,
    UNAVAILABLE
  }

  public QueryReply {
    Objects.requireNonNull(status, "status");
    if ((status == Status.FOUND) != (record != null)) {
      throw new IllegalArgumentException("a FOUND reply carries a record, others none");
    }
  }

  public static QueryReply found(SignedRecord record) {
    return new QueryReply(Status.FOUND, record, null);
  }

  public static QueryReply notFound(String reason) {
    return new QueryReply(Status.NOT_FOUND, null, reason);
  }

  public static QueryReply unavailable(String reason) {
    return new QueryReply(Status.UNAVAILABLE, null, reason);
  }

  @Override
  public String type() {
    return "query-reply";
  }
}
