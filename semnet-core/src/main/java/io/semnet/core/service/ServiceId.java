package io.semnet.core.service;

import java.util.Locale;
import java.util.Objects;

/**
 * Identity of a service: the quartet (app, app namespace, service, service namespace).
 *
 * <p>Every part is a DNS label (letters, digits and inner hyphens, 1 to 63 characters). Labels are
 * case-insensitive and stored in lower case, so two ids that differ only by case are equal.
 * Instances are immutable and safe to share across threads.
 */
public final class ServiceId implements Comparable<ServiceId> {
  private final String app;
  private final String appNamespace;
  private final String service;
  private final String serviceNamespace;
  private final int hash;

  private ServiceId(String app, String appNamespace, String service, String serviceNamespace) {
    this.app = app;
    this.appNamespace = appNamespace;
    this.service = service;
    this.serviceNamespace = serviceNamespace;
    this.hash = Objects.hash(app, appNamespace, service, serviceNamespace);
  }

  /**
   * Returns the id for the given labels.
   *
   * @throws IllegalArgumentException naming the offending part if a label is not a valid DNS label
   */
  public static ServiceId of(String app, String appNamespace, String service, String serviceNamespace) {
    return new ServiceId(
        Labels.requireLabel("app", app),
        Labels.requireLabel("app namespace", appNamespace),
        Labels.requireLabel("service", service),
        Labels.requireLabel("service namespace", serviceNamespace));
  }

  /** Parses {@code app.appns.service.servicens}, the form {@link #toString()} produces. */
  public static ServiceId parse(String dotted) {
    Objects.requireNonNull(dotted, "dotted");
    String[] parts = dotted.split("\\.", -1);
    if (parts.length != 4) {
      throw new IllegalArgumentException(
          "a service id has 4 labels app.appns.service.servicens, got " + parts.length + " in '" + dotted + "'");
    }
    return of(parts[0], parts[1], parts[2], parts[3]);
  }

  public String app() {
    return app;
  }

  public String appNamespace() {
    return appNamespace;
  }

  public String service() {
    return service;
  }

  public String serviceNamespace() {
    return serviceNamespace;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof ServiceId)) {
      return false;
    }
    ServiceId other = (ServiceId) o;
    return hash == other.hash
        && app.equals(other.app)
        && appNamespace.equals(other.appNamespace)
        && service.equals(other.service)
        && serviceNamespace.equals(other.serviceNamespace);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public int compareTo(ServiceId o) {
    return toString().compareTo(o.toString());
  }

  /** Returns {@code app.appns.service.servicens}. */
  @Override
  public String toString() {
    return app + '.' + appNamespace + '.' + service + '.' + serviceNamespace;
  }

  /** Label validation shared by the name grammar. */
  static final class Labels {
    private Labels() {}

    static String requireLabel(String what, String label) {
      String reason = invalidLabelReason(label);
      if (reason != null) {
        throw new IllegalArgumentException(what + " '" + label + "' is not a valid label: " + reason);
      }
      return label.toLowerCase(Locale.ROOT);
    }

    /** Returns why {@code label} is not a DNS label, or null if it is one. */
    static String invalidLabelReason(String label) {
      if (label == null) {
        return "missing";
      }
      int n = label.length();
      if (n == 0) {
        return "empty";
      }
      if (n > 63) {
        return "longer than 63 characters";
      }
      for (int i = 0; i < n; i++) {
        char c = label.charAt(i);
        boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok) {
          return "character '" + c + "' at " + i + " is not a letter, digit or hyphen";
        }
      }
      if (label.charAt(0) == '-' || label.charAt(n - 1) == '-') {
        return "starts or ends with a hyphen";
      }
      return null;
    }
  }
}
