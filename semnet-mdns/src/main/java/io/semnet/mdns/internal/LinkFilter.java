package io.semnet.mdns.internal;

import io.semnet.core.address.IpPrefix;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;

/**
 * Decides whether a query's source lies on the bridge's link: inside one of the bridge's subnets, or
 * (for mDNS) an IPv6 link-local address. The IPv4 check reads the address as an int and allocates
 * nothing.
 */
public final class LinkFilter {
  private final int[] v4Networks;
  private final int[] v4Masks;
  private final List<IpPrefix> v6;

  public LinkFilter(List<IpPrefix> prefixes) {
    List<IpPrefix> v4 = prefixes.stream().filter(IpPrefix::isIpv4).toList();
    v4Networks = new int[v4.size()];
    v4Masks = new int[v4.size()];
    for (int i = 0; i < v4.size(); i++) {
      IpPrefix p = v4.get(i);
      v4Masks[i] = p.length() == 0 ? 0 : -1 << (32 - p.length());
      v4Networks[i] = p.network().hashCode() & v4Masks[i]; // Inet4Address.hashCode() is the address
    }
    v6 = prefixes.stream().filter(p -> !p.isIpv4()).toList();
  }

  public boolean onLink(InetAddress a, boolean allowLinkLocal) {
    if (a instanceof Inet4Address) {
      int v = a.hashCode();
      for (int i = 0; i < v4Networks.length; i++) {
        if ((v & v4Masks[i]) == v4Networks[i]) {
          return true;
        }
      }
      return false;
    }
    if (a instanceof Inet6Address) {
      if (allowLinkLocal && a.isLinkLocalAddress()) {
        return true;
      }
      for (IpPrefix p : v6) {
        if (p.contains(a)) {
          return true;
        }
      }
    }
    return false;
  }
}
