package io.semnet.core.address;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class IpPrefixTest {
  @Test
  void normalisesAndCounts() {
    IpPrefix p = IpPrefix.parse("172.16.5.9/12");
    assertEquals("172.16.0.0/12", p.toString());
    assertEquals(1L << 20, p.size());
    assertEquals(1L << 14, p.subnetCount(26));
    assertEquals("172.16.0.64/26", p.subnet(1, 26).toString());
    assertEquals("172.31.255.192/26", p.subnet((1L << 14) - 1, 26).toString());
    assertThrows(IllegalArgumentException.class, () -> p.subnet(1L << 14, 26));
  }

  @Test
  void containmentAndOverlap() {
    IpPrefix platform = IpPrefix.parse("172.16.0.0/12");
    IpPrefix services = IpPrefix.parse("172.30.0.0/16");
    assertTrue(platform.contains(services));
    assertTrue(platform.overlaps(services));
    assertFalse(services.contains(platform));
    assertFalse(IpPrefix.parse("10.0.0.0/8").overlaps(platform));
    assertTrue(platform.contains(Addresses.parseLiteral("172.31.1.1")));
    assertFalse(platform.contains(Addresses.parseLiteral("172.32.0.0")));
    assertFalse(platform.contains(Addresses.parseLiteral("::1")));
  }

  @Test
  void ipv6() {
    IpPrefix p = IpPrefix.parse("fdec:5e00::/48");
    assertEquals("fdec:5e00::/48", p.toString());
    assertEquals("fdec:5e00::100/120", p.subnet(1, 120).toString());
    assertEquals(Long.MAX_VALUE, p.size());
    assertEquals(5, p.offsetOf(Addresses.parseLiteral("fdec:5e00::5")));
    assertEquals("fdec:5e00::5", Addresses.format(p.addressAt(5)));
  }

  @Test
  void literalsNeverResolveNames() {
    assertThrows(IllegalArgumentException.class, () -> Addresses.parseLiteral("localhost"));
    assertThrows(IllegalArgumentException.class, () -> Addresses.parseLiteral("1.2.3"));
    assertThrows(IllegalArgumentException.class, () -> Addresses.parseLiteral("1.2.3.256"));
    assertThrows(IllegalArgumentException.class, () -> Addresses.parseLiteral("example.com"));
    assertEquals("2001:db8::1", Addresses.format(Addresses.parseLiteral("2001:0db8:0:0:0:0:0:1")));
    assertEquals("2001:db8:0:1::", Addresses.format(Addresses.parseLiteral("2001:db8:0:1:0:0:0:0")));
    assertEquals("::", Addresses.format(Addresses.parseLiteral("::")));
  }
}
