package io.semnet.core.address;

import io.semnet.core.service.ServiceId;
import java.net.InetAddress;

/**
 * A virtual address applications send to: a {@link ServiceIp} (any instance, chosen by a policy)
 * or an {@link InstanceIp} (one instance). Never the physical place of an instance.
 */
public interface VirtualIp {
  /** The service this address belongs to. */
  ServiceId service();

  /** The address itself (IPv4 or IPv6). */
  InetAddress address();
}
