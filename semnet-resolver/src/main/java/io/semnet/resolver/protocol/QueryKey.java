package io.semnet.resolver.protocol;

import io.semnet.core.address.Addresses;
import io.semnet.core.service.SemanticName;
import java.net.InetAddress;
import java.util.Objects;

/**
 * What a table query asks for: a virtual address (ServiceIP or InstanceIP) or a semantic name.
 * Exactly one of the two is set. Immutable; usable as a map key.
 */
public final class QueryKey {
  private final InetAddress address;
  private final SemanticName name;

  private QueryKey(InetAddress address, SemanticName name) {
    this.address = address;
    this.name = name;
  }

  public static QueryKey of(InetAddress virtualIp) {
    return new QueryKey(Objects.requireNonNull(virtualIp, "virtualIp"), null);
  }

  public static QueryKey of(SemanticName name) {
    return new QueryKey(null, Objects.requireNonNull(name, "name"));
  }

  /** The virtual address asked for, or null for a name query. */
  public InetAddress address() {
    return address;
  }

  /** The name asked for, or null for an address query. */
  public SemanticName name() {
    return name;
  }

  public boolean isAddress() {
    return address != null;
  }

  /** The key itself (address or name) for cache maps. */
  public Object value() {
    return address != null ? address : name;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof QueryKey && Objects.equals(((QueryKey) o).address, address) && Objects.equals(((QueryKey) o).name, name);
  }

  @Override
  public int hashCode() {
    return Objects.hashCode(address) * 31 + Objects.hashCode(name);
  }

  @Override
  public String toString() {
    return address != null ? Addresses.format(address) : name.toString();
  }
}
