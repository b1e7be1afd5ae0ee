package io.semnet.samples;

import io.semnet.core.address.Addresses;
import io.semnet.core.address.InstanceIp;
import io.semnet.core.address.ServiceIp;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.plan.InstanceAddressRule;
import io.semnet.core.plan.VirtualAddressAllocator;
import io.semnet.core.policy.RoutingPolicyRegistry;
import io.semnet.core.service.SemanticName;
import io.semnet.core.service.ServiceId;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/** A short tour of the core API: names, the address plan and allocation, and the policy registry. */
public final class CoreTour {
  private CoreTour() {}

  public static void main(String[] args) {
    RoutingPolicyRegistry policies = RoutingPolicyRegistry.getDefaultRegistry();
    System.out.println("routing policies on the class path: " + policies.policyNames());

    AddressPlan plan = AddressPlan.defaults();
    System.out.println("address plan: " + plan);
    VirtualAddressAllocator allocator = new VirtualAddressAllocator(plan, Clock.systemUTC());
    ServiceId login = ServiceId.of("test", "tum", "login", "dev");
    List<ServiceIp> serviceIps = allocator.allocateServiceIps(login, policies.policyNames(), Map.of());
    for (ServiceIp ip : serviceIps) {
      System.out.printf("  %-45s -> %s%n", SemanticName.ofPolicy(login, ip.policy()), Addresses.format(ip.address()));
    }
    for (int ordinal = 0; ordinal < 3; ordinal++) {
      for (InstanceIp ip : allocator.allocateInstanceIps(login, ordinal, InstanceAddressRule.NONE)) {
        System.out.printf("  %-45s -> %s%n", SemanticName.ofInstance(login, ordinal), Addresses.format(ip.address()));
      }
    }
    for (String bad : List.of("test.tum.login.dev.0.rr.local", "test.tum.login.dev.any.none.local", "test.tum.login.local")) {
      System.out.println("  " + bad + ": " + SemanticName.tryParse(bad, policies::contains).reason());
    }
  }
}
