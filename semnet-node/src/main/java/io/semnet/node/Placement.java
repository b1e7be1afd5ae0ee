package io.semnet.node;

import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;

/**
 * Tells the control plane where an instance now runs and returns the record it published, e.g.
 * {@code loc -> orchestration.placeInstance(service, 0, loc).instance(0)} for a new instance or
 * {@code loc -> orchestration.migrate(service, 0, loc).instance(0)} for a moved one. The node calls
 * it once per attachment, after the instance's namespace is wired, so the locator carries the
 * namespace addresses the node chose.
 */
@FunctionalInterface
public interface Placement {
  /**
   * @param locator where the instance runs: its namespace addresses on this node and this node's
   *     worker endpoint
   * @return the instance's record as published (never null)
   * @throws RuntimeException if the control plane refused; the node then undoes the wiring
   */
  InstanceRecord place(Locator locator);
}
