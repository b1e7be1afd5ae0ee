package io.semnet.resolver.protocol;

import io.semnet.core.record.GeoPoint;
import java.util.Objects;

/**
 * First request of a client after (re)connecting: who it is, its role and location (used for
 * k-pruning). Answered with {@link HelloReply}. Also used as the liveness probe while offline.
 *
 * @param nodeId the client's id (a worker's node id or a cluster manager's id)
 * @param role worker or cluster
 * @param location where the client is, or null if unknown
 */
public record Hello(String nodeId, Role role, GeoPoint location) implements ControlMessage {
  public Hello {
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(role, "role");
  }

  @Override
  public String type() {
    return "hello";
  }
}
