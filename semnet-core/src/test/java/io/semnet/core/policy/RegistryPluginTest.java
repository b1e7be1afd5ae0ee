package io.semnet.core.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryPluginTest {
  /** A plugin policy: always the last candidate. */
  public static final class LastPolicyProvider extends RoutingPolicyProvider {
    @Override
    public String policyName() {
      return "last";
    }

    @Override
    public RoutingPolicy newPolicy() {
      return new RoutingPolicy() {
        @Override
        public String name() {
          return "last";
        }

        @Override
        public InstanceSelector newSelector() {
          return (c, k, v) -> c.size() - 1;
        }
      };
    }
  }

  /** A plugin that replaces the built-in rr by priority. */
  public static final class BetterRoundRobinProvider extends RoutingPolicyProvider {
    @Override
    public int priority() {
      return 9;
    }

    @Override
    public String policyName() {
      return "rr";
    }

    @Override
    public RoutingPolicy newPolicy() {
      return new LastPolicyProvider().newPolicy();
    }
  }

  @Test
  void pluginJarIsDiscoveredThroughServiceLoader(@TempDir Path dir) throws IOException {
    Path jar = dir.resolve("last-policy-plugin.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
      for (Class<?> c : new Class<?>[] {LastPolicyProvider.class, BetterRoundRobinProvider.class}) {
        String entry = c.getName().replace('.', '/') + ".class";
        out.putNextEntry(new JarEntry(entry));
        try (InputStream in = c.getClassLoader().getResourceAsStream(entry)) {
          in.transferTo(out);
        }
      }
      out.putNextEntry(new JarEntry("META-INF/services/" + RoutingPolicyProvider.class.getName()));
      out.write((LastPolicyProvider.class.getName() + "\n" + BetterRoundRobinProvider.class.getName() + "\n").getBytes(StandardCharsets.UTF_8));
    }
    RoutingPolicyRegistry withoutPlugin = RoutingPolicyRegistry.load(RoutingPolicyRegistry.class.getClassLoader());
    assertFalse(withoutPlugin.contains("last"), "the plugin's service file exists only in the jar");
    try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, RoutingPolicyRegistry.class.getClassLoader())) {
      RoutingPolicyRegistry r = RoutingPolicyRegistry.load(loader);
      assertTrue(r.contains("last"));
      assertTrue(r.contains("closest"), "built-ins are still there");
      assertEquals(BetterRoundRobinProvider.class.getName(), r.getProvider("rr").getClass().getName(), "higher priority wins");
      assertEquals(2, r.policy("last").newSelector().select(io.semnet.core.policy.CandidateSet.of(1,
          io.semnet.testing.Fixtures.instance(0, "a", 1, null), io.semnet.testing.Fixtures.instance(1, "a", 1, null),
          io.semnet.testing.Fixtures.instance(2, "a", 1, null)), 0, new LocalNodeView("x", null)));
    }
  }

  @Test
  void invalidProvidersAreRejected() {
    RoutingPolicyRegistry r = new RoutingPolicyRegistry();
    RoutingPolicyProvider bad = new RoutingPolicyProvider() {
      @Override
      public String policyName() {
        return "none";
      }

      @Override
      public RoutingPolicy newPolicy() {
        return null;
      }
    };
    assertThrows(IllegalArgumentException.class, () -> r.register(bad));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> r.policy("nosuch"));
    assertTrue(e.getMessage().contains("no routing policy named 'nosuch'"));
    LastPolicyProvider p = new LastPolicyProvider();
    r.register(p);
    assertSame(p, r.getProvider("LAST"));
    r.deregister(p);
    assertFalse(r.contains("last"));
  }
}
