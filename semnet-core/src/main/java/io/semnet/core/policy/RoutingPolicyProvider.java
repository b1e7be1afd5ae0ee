package io.semnet.core.policy;

/**
 * Service-provider entry point for a routing policy, discovered with {@link java.util.ServiceLoader}
 * by {@link RoutingPolicyRegistry}. When two available providers offer the same policy name, the one
 * with the higher {@link #priority()} wins, so a plugin can replace a built-in deliberately.
 *
 * <p>Subclasses need a public no-argument constructor.
 */
public abstract class RoutingPolicyProvider {
  /** The priority of the built-in providers. */
  public static final int DEFAULT_PRIORITY = 5;

  /** Whether the provider can be used here (e.g. its dependencies are present). */
  public boolean isAvailable() {
    return true;
  }

  /** 0 to 10; higher wins among providers of one name. */
  public int priority() {
    return DEFAULT_PRIORITY;
  }

  /** The policy name, a lower-case DNS label other than {@code any} and {@code none}. */
  public abstract String policyName();

  /** The policy; may return the same instance every time. */
  public abstract RoutingPolicy newPolicy();

  @Override
  public String toString() {
    return getClass().getSimpleName() + "{" + policyName() + ", priority=" + priority() + "}";
  }
}
