package io.semnet.resolver.protocol;

import java.util.Objects;

/**
 * Push: an availability hint from a manager that learned a node's liveness (e.g. its MQTT last
 * will): {@code available} false marks the node's instances unavailable for new flows at the
 * receiver, true restores them. A hint is not a record: it is not signed, never changes a locator
 * or a version floor, and the receiver's own measurements (the tunnel's probes) may overrule it.
 *
 * @param nodeId the node whose liveness changed
 * @param available whether it is alive now
 * @param atMillis when the manager learned it (its clock)
 */
public record AvailabilityPush(String nodeId, boolean available, long atMillis) implements ControlMessage {
  public AvailabilityPush {
    Objects.requireNonNull(nodeId, "nodeId");
  }

  @Override
  public String type() {
    return "availability";
  }
}
