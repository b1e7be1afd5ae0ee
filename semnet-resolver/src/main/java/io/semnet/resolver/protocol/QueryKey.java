package io.semnet.resolver.protocol;

import io.semnet.core.address.Addresses;
import io.semnet.core.service.SemanticName;
import io.semnet.core.service.ServiceId;
import java.net.InetAddress;
import java.util.Objects;

/**
 * What a table query asks for: a virtual address (ServiceIP or InstanceIP), a semantic name, or a
 * whole service by id (used to resynchronise after a restart). Exactly one is set. Immutable;
 * usable as a map key.
 */
public final class QueryKey {
  private final InetAddress address;
  private final SemanticName name;
  private final ServiceId service;

  private QueryKey(InetAddress address, SemanticName name, ServiceId service) {
    this.address = address;
    this.name = name;
    this.service = service;
  }

  /** The whole service. */
  public static QueryKey of(ServiceId service) {
    return new QueryKey(null, null, Objects.requireNonNull(service, "service"));
  }

  public static QueryKey of(InetAddress virtualIp) {
    return new QueryKey(Objects.requireNonNull(virtualIp, "virtualIp"), null, null);
  }

  public static QueryKey of(SemanticName name) {
    return new QueryKey(null, Objects.requireNonNull(name, "name"), null);
  }

  /** The virtual address asked for, or null for a name query. */
  public InetAddress address() {
    return address;
  }

  /** The name asked for, or null for an address query. */
  public SemanticName name() {
    return name;
  }

  /** The service asked for, or null for an address or name query. */
  public ServiceId service() {
    return service;
  }

  public boolean isAddress() {
    return address != null;
  }

  /** The key itself (address or name) for cache maps. */
  public Object value() {
    return address != null ? address : name != null ? name : service;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof QueryKey && Objects.equals(((QueryKey) o).address, address) && Objects.equals(((QueryKey) o).name, name)
        && Objects.equals(((QueryKey) o).service, service);
  }

  @Override
  public int hashCode() {
    return Objects.hash(address, name, service);
  }

  @Override
  public String toString() {
    return address != null ? Addresses.format(address) : name != null ? name.toString() : "service " + service;
  }
}
