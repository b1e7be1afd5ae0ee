package io.semnet.core.policy;

import io.semnet.core.record.GeoPoint;
import java.util.Objects;

/** What a service manager knows about the node asking for routes, for k-pruning. Immutable. */
public final class PruningContext {
  private final String nodeId;
  private final GeoPoint location;

  private PruningContext(String nodeId, GeoPoint location) {
    this.nodeId = Objects.requireNonNull(nodeId, "nodeId");
    this.location = location;
  }

  /** @param location the requester's location, or null if unknown */
  public static PruningContext of(String nodeId, GeoPoint location) {
    return new PruningContext(nodeId, location);
  }

  public String nodeId() {
    return nodeId;
  }

  /** The requester's location, or null. */
  public GeoPoint location() {
    return location;
  }
}
