package io.semnet.mdns.testing;

import io.semnet.core.policy.InstanceSelector;
import io.semnet.core.policy.RoutingPolicy;
import io.semnet.core.policy.RoutingPolicyProvider;
import io.semnet.core.policy.RoutingPolicyRegistry;

/** A fresh policy registry knowing only the names the tests use. */
public final class Policies {
  private Policies() {}

  public static RoutingPolicyRegistry of(String... names) {
    RoutingPolicyRegistry reg = new RoutingPolicyRegistry();
    for (String n : names) {
      reg.register(new RoutingPolicyProvider() {
        @Override
        public String policyName() {
          return n;
        }

        @Override
        public RoutingPolicy newPolicy() {
          return new RoutingPolicy() {
            @Override
            public String name() {
              return n;
            }

            @Override
            public InstanceSelector newSelector() {
              throw new UnsupportedOperationException("not needed to answer names");
            }
          };
        }
      });
    }
    return reg;
  }
}
