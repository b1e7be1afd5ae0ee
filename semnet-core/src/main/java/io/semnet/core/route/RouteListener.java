package io.semnet.core.route;

import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;

/**
 * Told about changes the service managers push for services this node is interested in. Called
 * on resolver threads, in record-version order per service; must not block.
 */
public interface RouteListener {
  /** A newer record replaced {@code previous} (null if the service was not cached before). */
  void onRecordUpdated(ServiceRecord previous, ServiceRecord current);

  /** The service was removed, or this node lost the right to see it. */
  void onServiceRemoved(ServiceId service);
}
