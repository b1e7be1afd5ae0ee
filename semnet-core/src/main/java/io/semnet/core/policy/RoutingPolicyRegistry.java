package io.semnet.core.policy;

import io.semnet.core.service.SemanticName;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registry of routing-policy providers. The {@linkplain #getDefaultRegistry() default registry} holds
 * the providers found with {@link ServiceLoader} on the class path (the built-ins and any plugin
 * jar); more can be registered programmatically. For each name the available provider with the
 * highest priority is used. Thread-safe.
 */
public final class RoutingPolicyRegistry {
  private static final Logger log = LoggerFactory.getLogger(RoutingPolicyRegistry.class);
  private static volatile RoutingPolicyRegistry defaultRegistry;

  private final List<RoutingPolicyProvider> all = new ArrayList<>();
  private volatile Map<String, RoutingPolicyProvider> effective = Map.of();

  /** The process-wide registry, loaded from the class path on first use. */
  public static RoutingPolicyRegistry getDefaultRegistry() {
    RoutingPolicyRegistry r = defaultRegistry;
    if (r == null) {
      synchronized (RoutingPolicyRegistry.class) {
        r = defaultRegistry;
        if (r == null) {
          r = load(RoutingPolicyRegistry.class.getClassLoader());
          defaultRegistry = r;
        }
      }
    }
    return r;
  }

  /** A registry with the providers {@code loader} can see. A provider that fails to load is logged and skipped. */
  public static RoutingPolicyRegistry load(ClassLoader loader) {
    RoutingPolicyRegistry r = new RoutingPolicyRegistry();
    var it = ServiceLoader.load(RoutingPolicyProvider.class, loader).iterator();
    while (true) {
      RoutingPolicyProvider p;
      try {
        if (!it.hasNext()) {
          break;
        }
        p = it.next();
      } catch (ServiceConfigurationError e) {
        log.warn("skipping a routing policy provider that failed to load", e);
        continue;
      }
      r.register(p);
    }
    return r;
  }

  /** An empty registry. */
  public RoutingPolicyRegistry() {}

  /** Adds a provider; it takes effect if available and of the highest priority for its name. */
  public synchronized void register(RoutingPolicyProvider provider) {
    String name = provider.policyName();
    if (name == null || !name.equals(name.toLowerCase(Locale.ROOT)) || name.isEmpty()
        || name.equals(SemanticName.ANY) || name.equals(SemanticName.NONE)
        || !name.matches("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")) {
      throw new IllegalArgumentException("provider " + provider.getClass().getName()
          + " has an invalid policy name '" + name + "' (lower-case DNS label, not 'any' or 'none')");
    }
    if (provider.priority() < 0 || provider.priority() > 10) {
      throw new IllegalArgumentException("priority of " + provider + " outside 0..10");
    }
    all.add(provider);
    refresh();
  }

  public synchronized void deregister(RoutingPolicyProvider provider) {
    all.remove(provider);
    refresh();
  }

  private void refresh() {
    Map<String, RoutingPolicyProvider> m = new HashMap<>();
    for (RoutingPolicyProvider p : all) {
      if (!p.isAvailable()) {
        continue;
      }
      RoutingPolicyProvider cur = m.get(p.policyName());
      if (cur == null || p.priority() > cur.priority()) {
        m.put(p.policyName(), p);
      }
    }
    effective = Collections.unmodifiableMap(m);
  }

  /** The provider for {@code name}, or null if none is registered. */
  public RoutingPolicyProvider getProvider(String name) {
    return name == null ? null : effective.get(name.toLowerCase(Locale.ROOT));
  }

  /**
   * The policy for {@code name}.
   *
   * @throws IllegalArgumentException if no provider offers it
   */
  public RoutingPolicy policy(String name) {
    RoutingPolicyProvider p = getProvider(name);
    if (p == null) {
      throw new IllegalArgumentException("no routing policy named '" + name + "'; known: " + policyNames());
    }
    return p.newPolicy();
  }

  public boolean contains(String name) {
    return getProvider(name) != null;
  }

  /** Names of all usable policies, sorted. */
  public Set<String> policyNames() {
    return Collections.unmodifiableSet(new TreeSet<>(effective.keySet()));
  }
}
