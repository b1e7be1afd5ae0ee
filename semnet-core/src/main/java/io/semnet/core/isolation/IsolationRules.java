package io.semnet.core.isolation;

import io.semnet.core.service.ServiceId;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * Who may reach whom. By default a service reaches only services of its own app namespace (the
 * thesis: "all the applications belonging to the same namespace are allowed to speak together");
 * explicit {@link Grant}s open a path across namespaces, one direction at a time. Immutable;
 * {@link #withGrant} returns a new rule set.
 */
public final class IsolationRules {
  /** Same-namespace traffic only, no grants. */
  public static final IsolationRules DEFAULT = new IsolationRules(List.of());

  private final List<Grant> grants;

  private IsolationRules(List<Grant> grants) {
    this.grants = grants;
  }

  public static IsolationRules of(List<Grant> grants) {
    return new IsolationRules(List.copyOf(grants));
  }

  public IsolationRules withGrant(Grant grant) {
    List<Grant> g = new ArrayList<>(grants);
    g.add(Objects.requireNonNull(grant, "grant"));
    return new IsolationRules(Collections.unmodifiableList(g));
  }

  public IsolationRules withoutGrant(Grant grant) {
    List<Grant> g = new ArrayList<>(grants);
    g.remove(grant);
    return new IsolationRules(Collections.unmodifiableList(g));
  }

  public List<Grant> grants() {
    return grants;
  }

  /** True if an instance of {@code from} may open flows to {@code to}. */
  public boolean mayReach(ServiceId from, ServiceId to) {
    if (from.appNamespace().equals(to.appNamespace())) {
      return true;
    }
    for (int i = 0, n = grants.size(); i < n; i++) {
      if (grants.get(i).allows(from, to)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof IsolationRules && ((IsolationRules) o).grants.equals(grants);
  }

  @Override
  public int hashCode() {
    return grants.hashCode();
  }

  @Override
  public String toString() {
    return "IsolationRules{sameAppNamespace, grants=" + grants + "}";
  }
}
