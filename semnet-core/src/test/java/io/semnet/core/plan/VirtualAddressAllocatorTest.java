package io.semnet.core.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.Addresses;
import io.semnet.core.address.InstanceIp;
import io.semnet.core.address.IpPrefix;
import io.semnet.core.address.ServiceIp;
import io.semnet.core.service.ServiceId;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VirtualAddressAllocatorTest {
  private final ServiceId svc = ServiceId.of("test", "tum", "login", "dev");
  private final List<String> policies = List.of("rr", "closest", "hc");

  @Test
  void dualStackServiceGetsOneAddressPerPolicyAndFamily() {
    VirtualAddressAllocator a = new VirtualAddressAllocator(AddressPlan.defaults(), Clock.systemUTC());
    List<ServiceIp> ips = a.allocateServiceIps(svc, policies, Map.of());
    assertEquals(6, ips.size());
    for (String p : policies) {
      assertEquals(1, ips.stream().filter(i -> i.policy().equals(p) && i.address() instanceof Inet4Address).count());
      assertEquals(1, ips.stream().filter(i -> i.policy().equals(p) && !(i.address() instanceof Inet4Address)).count());
    }
    assertEquals(6, ips.stream().map(ServiceIp::address).distinct().count());
    ips.forEach(ip -> assertTrue(AddressPlan.defaults().family(ip.address() instanceof Inet4Address).virtualRange().contains(ip.address())));
  }

  @Test
  void pinnedAddressesAreHonouredAndConflictsChangeNothing() {
    VirtualAddressAllocator a = new VirtualAddressAllocator(AddressPlan.defaults(), Clock.systemUTC());
    InetAddress pin = Addresses.parseLiteral("172.30.0.3");
    List<ServiceIp> ips = a.allocateServiceIps(svc, policies, Map.of("rr", List.of(pin)));
    assertEquals(pin, ips.stream().filter(i -> i.policy().equals("rr") && i.address() instanceof Inet4Address).findFirst().orElseThrow().address());

    ServiceId other = ServiceId.of("other", "tum", "x", "dev");
    int before = a.ipv4Pool().allocated().size();
    AllocationException e = assertThrows(AllocationException.class,
        () -> a.allocateServiceIps(other, policies, Map.of("hc", List.of(pin))));
    assertTrue(e.getMessage().contains("already allocated"));
    assertEquals(before, a.ipv4Pool().allocated().size(), "a failed allocation must leave nothing behind");
    assertThrows(AllocationException.class,
        () -> a.allocateServiceIps(other, policies, Map.of("rr", List.of(Addresses.parseLiteral("10.9.9.9")))));
    assertThrows(AllocationException.class,
        () -> a.allocateServiceIps(other, policies, Map.of("nosuch", List.of(Addresses.parseLiteral("172.30.9.9")))));
    assertEquals(before, a.ipv4Pool().allocated().size());
  }

  @Test
  void instanceRuleGivesConsecutiveAddresses() {
    VirtualAddressAllocator a = new VirtualAddressAllocator(AddressPlan.defaults(), Clock.systemUTC());
    InstanceAddressRule rule = InstanceAddressRule.of(0, 9, Addresses.parseLiteral("172.30.10.0"), Addresses.parseLiteral("fdec:5e00:ffff::a00"));
    for (int o = 0; o < 10; o++) {
      List<InstanceIp> ips = a.allocateInstanceIps(svc, o, rule);
      assertEquals("172.30.10." + o, Addresses.format(ips.get(0).address()));
      assertEquals("fdec:5e00:ffff::" + Integer.toHexString(0xa00 + o), Addresses.format(ips.get(1).address()));
    }
    List<InstanceIp> outside = a.allocateInstanceIps(svc, 10, rule);
    assertFalse(IpPrefix.parse("172.30.10.0/28").contains(outside.get(0).address()));
    assertThrows(AllocationException.class, () -> a.allocateInstanceIps(svc, 3, rule));
  }

  @Test
  void releasedAddressesWaitOutQuarantine() {
    AddressPlan plan = AddressPlan.builder()
        .ipv4(new AddressPlan.Family(IpPrefix.parse("10.0.0.0/16"), 26, 20, IpPrefix.parse("10.200.0.0/30")))
        .ipv6(null)
        .quarantine(Duration.ofHours(1))
        .build();
    VirtualAddressAllocator a = new VirtualAddressAllocator(plan, Clock.systemUTC());
    List<InstanceIp> x = a.allocateInstanceIps(svc, 0, InstanceAddressRule.NONE);
    List<InstanceIp> y = a.allocateInstanceIps(svc, 1, InstanceAddressRule.NONE);
    assertEquals(List.of("10.200.0.1", "10.200.0.2"), List.of(Addresses.format(x.get(0).address()), Addresses.format(y.get(0).address())));
    a.release(x.get(0).address());
    assertThrows(AllocationException.class, () -> a.allocateInstanceIps(svc, 2, InstanceAddressRule.NONE));
  }

  @Test
  void planValidationRejectsOverlapsAndBadSizes() {
    assertThrows(IllegalArgumentException.class, () -> new AddressPlan.Family(
        IpPrefix.parse("172.16.0.0/12"), 26, 20, IpPrefix.parse("172.0.0.0/8")));
    assertThrows(IllegalArgumentException.class, () -> new AddressPlan.Family(
        IpPrefix.parse("172.16.0.0/12"), 12, 12, IpPrefix.parse("10.0.0.0/16")));
    assertThrows(IllegalArgumentException.class, () -> new AddressPlan.Family(
        IpPrefix.parse("172.16.0.0/12"), 26, 28, IpPrefix.parse("10.0.0.0/16")));
    assertThrows(IllegalArgumentException.class, () -> new AddressPlan.Family(
        IpPrefix.parse("172.16.0.0/12"), 26, 20, IpPrefix.parse("fd00::/64")));
    assertThrows(IllegalArgumentException.class, () -> AddressPlan.builder().ipv4(null).ipv6(null).build());
    assertEquals(61, AddressPlan.defaults().ipv4().instancesPerNode());
    assertEquals(254, AddressPlan.defaults().ipv6().instancesPerNode());
    PrefixAllocator pools = AddressPlan.defaults().newClusterPoolAllocator(true, Clock.systemUTC());
    IpPrefix pool = pools.allocate();
    PrefixAllocator nodes = AddressPlan.defaults().newNodeSubnetAllocator(pool, Clock.systemUTC());
    assertEquals(26, nodes.allocate().length());
    assertThrows(IllegalArgumentException.class, () -> AddressPlan.defaults().newNodeSubnetAllocator(IpPrefix.parse("10.0.0.0/20"), Clock.systemUTC()));
  }
}
