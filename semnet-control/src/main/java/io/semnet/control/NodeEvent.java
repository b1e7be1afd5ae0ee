package io.semnet.control;

import io.semnet.core.service.ServiceId;
import java.util.Objects;

/**
 * What the root tells subscribed orchestrators about liveness: a node went down or came back, or
 * an instance became unreachable because its node went down. Numbered by the root
 * ({@link #sequence}: consecutive, continued by a root that takes over or restarts), stamped with
 * the root's clock when it learned it. Immutable.
 *
 * @param sequence this event's number (1, 2, ...)
 * @param atMillis when the root learned it (epoch millis, the root's clock)
 * @param kind what happened
 * @param nodeId the node
 * @param service the instance's service ({@link Kind#INSTANCE_UNREACHABLE} only), else null
 * @param ordinal the instance's ordinal ({@link Kind#INSTANCE_UNREACHABLE} only), else -1
 */
public record NodeEvent(long sequence, long atMillis, Kind kind, String nodeId, ServiceId service, int ordinal) {
  /** Kinds of liveness events. */
  public enum Kind {
    /** The node's control connection is gone (clean goodbye or its MQTT last will). */
    NODE_DOWN,
    /** The node is connected again. */
    NODE_UP,
    /** An instance placed on a node that went down; its record (locator, version) is unchanged. */
    INSTANCE_UNREACHABLE
  }

  public NodeEvent {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(nodeId, "nodeId");
  }
}
