package io.semnet.core.isolation;

import io.semnet.core.service.ServiceId;
import java.util.Locale;
import java.util.Objects;

/**
 * Matches services by app namespace and, optionally, app, service and service namespace
 * ({@code *} matches anything). Written {@code appns/app/service/servicens}, e.g.
 * {@code tum/pipeline/* /*}. Immutable.
 */
public final class ServiceSelector {
  public static final String WILDCARD = "*";

  private final String appNamespace;
  private final String app;
  private final String service;
  private final String serviceNamespace;

  private ServiceSelector(String appNamespace, String app, String service, String serviceNamespace) {
    this.appNamespace = norm(appNamespace);
    this.app = norm(app);
    this.service = norm(service);
    this.serviceNamespace = norm(serviceNamespace);
  }

  private static String norm(String s) {
    return Objects.requireNonNull(s, "selector part").toLowerCase(Locale.ROOT);
  }

  /** Every service of an app namespace. */
  public static ServiceSelector appNamespace(String appNamespace) {
    return new ServiceSelector(appNamespace, WILDCARD, WILDCARD, WILDCARD);
  }

  /** One service exactly. */
  public static ServiceSelector service(ServiceId id) {
    return new ServiceSelector(id.appNamespace(), id.app(), id.service(), id.serviceNamespace());
  }

  /** Any combination of exact parts and wildcards. */
  public static ServiceSelector of(String appNamespace, String app, String service, String serviceNamespace) {
    return new ServiceSelector(appNamespace, app, service, serviceNamespace);
  }

  /** Parses {@code appns/app/service/servicens} (trailing parts may be omitted and mean {@code *}). */
  public static ServiceSelector parse(String text) {
    String[] p = text.split("/", -1);
    if (p.length < 1 || p.length > 4 || p[0].isEmpty()) {
      throw new IllegalArgumentException("selector '" + text + "' is not appns[/app[/service[/servicens]]]");
    }
    return new ServiceSelector(p[0], p.length > 1 ? p[1] : WILDCARD, p.length > 2 ? p[2] : WILDCARD, p.length > 3 ? p[3] : WILDCARD);
  }

  public boolean matches(ServiceId id) {
    return part(appNamespace, id.appNamespace())
        && part(app, id.app())
        && part(service, id.service())
        && part(serviceNamespace, id.serviceNamespace());
  }

  private static boolean part(String pattern, String value) {
    return pattern.equals(WILDCARD) || pattern.equals(value);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ServiceSelector && o.toString().equals(toString());
  }

  @Override
  public int hashCode() {
    return toString().hashCode();
  }

  @Override
  public String toString() {
    return appNamespace + "/" + app + "/" + service + "/" + serviceNamespace;
  }
}
