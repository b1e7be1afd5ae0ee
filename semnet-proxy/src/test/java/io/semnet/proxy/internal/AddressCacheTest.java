package io.semnet.proxy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.semnet.core.address.Addresses;
import io.semnet.proxy.internal.packet.AddressWords;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class AddressCacheTest {
  @Test
  void wordsToAddressIsExactAndReusedOnHit() {
    AddressCache c = new AddressCache();
    InetAddress a = c.address(false, 0, 0xAC1E000AL);
    assertEquals(Addresses.parseLiteral("172.30.0.10"), a);
    assertSame(a, c.address(false, 0, 0xAC1E000AL));
    InetAddress six = c.address(true, 0xfd53000000000000L, 0x10L);
    assertEquals(Addresses.parseLiteral("fd53::10"), six);
    assertSame(six, c.address(true, 0xfd53000000000000L, 0x10L));
  }

  @Test
  void familyIsPartOfTheKey() {
    AddressCache c = new AddressCache();
    // IPv4-mapped ::ffff:10.0.0.1 has the same low word as 10.0.0.1 with the ffff prefix; the
    // words 0/0x0a000001 mean 10.0.0.1 over IPv4 and ::10.0.0.1 over IPv6.
    assertInstanceOf(Inet4Address.class, c.address(false, 0, 0x0a000001L));
    assertInstanceOf(Inet6Address.class, c.address(true, 0, 0x0a000001L));
    assertInstanceOf(Inet4Address.class, c.address(false, 0, 0x0a000001L));
    assertInstanceOf(Inet6Address.class, c.address(true, 0, 0xffff0a000001L));
  }

  @Test
  void manyAddressesEvictButStayCorrect() {
    AddressCache c = new AddressCache();
    for (int round = 0; round < 2; round++) {
      for (int i = 0; i < 10 * AddressCache.SIZE; i++) {
        long lo = 0x0a000000L + i;
        InetAddress a = c.address(false, 0, lo);
        assertEquals(lo, AddressWords.lo(a));
        assertEquals(0, c.hi(a));
        assertEquals(lo, c.lo(a));
        InetAddress six = AddressWords.toInetAddress(true, 0xfd00000000000000L + i, lo);
        assertEquals(0xfd00000000000000L + i, c.hi(six));
        assertEquals(lo, c.lo(six));
      }
    }
  }
}
