package io.semnet.resolver.protocol;

import java.util.Objects;

/**
 * A table query. With {@code register} the manager also registers the asker's interest in the
 * service (if it exists and is visible to the asker), atomically with answering, so no update can
 * fall between the answer and the registration. A cluster that already holds an interest but lacks
 * the asked-for part of the record forwards with {@code register = false}.
 */
public record Query(QueryKey key, boolean register) implements ControlMessage {
  public Query {
    Objects.requireNonNull(key, "key");
  }

  @Override
  public String type() {
    return "query";
  }
}
