package io.semnet.core.service;

import java.util.Locale;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * A semantic name {@code app.appns.service.servicens.<instance|any>.<policy|none>.local}.
 *
 * <p>Exactly two shapes are meaningful: {@code <n>.none} names instance {@code n} (resolves to its
 * InstanceIP) and {@code any.<policy>} names the service through a routing policy (resolves to the
 * ServiceIP for that policy). Every other combination ({@code 0.rr}, {@code any.none}, an unknown
 * policy, a wrong number of labels) is rejected with a reason. {@link #toString()} formats the
 * canonical lower-case name, and parsing it yields an equal value. Immutable.
 */
public final class SemanticName {
  /** The top-level label every semantic name ends with. */
  public static final String ZONE = "local";
  /** The instance label that selects a routing policy instead of one instance. */
  public static final String ANY = "any";
  /** The policy label used when the name selects one instance. */
  public static final String NONE = "none";

  private static final int LABELS = 7;

  private final ServiceId service;
  private final int instance;
  private final String policy;

  private SemanticName(ServiceId service, int instance, String policy) {
    this.service = service;
    this.instance = instance;
    this.policy = policy;
  }

  /** The name of instance {@code ordinal} of {@code service}. */
  public static SemanticName ofInstance(ServiceId service, int ordinal) {
    if (ordinal < 0) {
      throw new IllegalArgumentException("instance ordinal must be >= 0, got " + ordinal);
    }
    return new SemanticName(Objects.requireNonNull(service, "service"), ordinal, null);
  }

  /** The name of {@code service} reached through routing policy {@code policy}. */
  public static SemanticName ofPolicy(ServiceId service, String policy) {
    String p = ServiceId.Labels.requireLabel("policy", policy);
    if (p.equals(NONE) || p.equals(ANY)) {
      throw new IllegalArgumentException("'" + p + "' is reserved and cannot name a policy");
    }
    return new SemanticName(Objects.requireNonNull(service, "service"), -1, p);
  }

  /**
   * Parses a name, accepting any syntactically valid policy label.
   *
   * @throws InvalidNameException with the reason if the name is not a valid semantic name
   */
  public static SemanticName parse(String name) {
    return parse(name, p -> true);
  }

  /**
   * Parses a name, rejecting policies for which {@code knownPolicy} is false.
   *
   * @throws InvalidNameException with the reason if the name is not a valid semantic name
   */
  public static SemanticName parse(String name, Predicate<String> knownPolicy) {
    Result r = tryParse(name, knownPolicy);
    if (r.name == null) {
      throw new InvalidNameException(name, r.reason);
    }
    return r.name;
  }

  /**
   * Parses without throwing: the result holds either the name or the reason it was rejected. Meant
   * for responders that see untrusted input at a high rate.
   */
  public static Result tryParse(String name, Predicate<String> knownPolicy) {
    if (name == null) {
      return Result.rejected("name is missing");
    }
    String[] labels = labels(name);
    if (labels.length != LABELS) {
      return Result.rejected(
          "expected 7 labels app.appns.service.servicens.<instance|any>.<policy|none>.local, got "
              + labels.length);
    }
    String reason = shapeReason(labels, knownPolicy);
    if (reason != null) {
      return Result.rejected(reason);
    }
    ServiceId service = ServiceId.of(labels[0], labels[1], labels[2], labels[3]);
    String instance = labels[4].toLowerCase(Locale.ROOT);
    if (instance.equals(ANY)) {
      return Result.of(new SemanticName(service, -1, labels[5].toLowerCase(Locale.ROOT)));
    }
    return Result.of(new SemanticName(service, parseOrdinal(instance), null));
  }

  /**
   * True if {@code name} is a proper suffix (an ancestor) of at least one name {@link #tryParse}
   * accepts with {@code knownPolicy}: 1 to 6 labels, the last {@code local}, and every label legal
   * in the position it takes when aligned to the right of
   * {@code app.appns.service.servicens.<instance|any>.<policy|none>.local} (policy: {@code none} or
   * a known policy; instance: an ordinal with {@code none} or {@code any} with a known policy; the
   * service labels: DNS labels). Case-insensitive; a trailing dot is allowed. Such a name is an
   * empty non-terminal of the zone, never a name of its own.
   */
  public static boolean isValidAncestor(String name, Predicate<String> knownPolicy) {
    if (name == null) {
      return false;
    }
    String[] labels = labels(name);
    return labels.length < LABELS && shapeReason(labels, knownPolicy) == null;
  }

  private static String[] labels(String name) {
    String n = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    return n.split("\\.", -1);
  }

  /**
   * Why the labels, taken as the last {@code labels.length} labels of a seven-label name, cannot be
   * there; null if they can.
   */
  private static String shapeReason(String[] labels, Predicate<String> knownPolicy) {
    int n = labels.length;
    if (!labels[n - 1].equalsIgnoreCase(ZONE)) {
      return "name must end in ." + ZONE;
    }
    String[] what = {"app", "app namespace", "service", "service namespace", "instance", "policy"};
    int skip = LABELS - n;
    for (int i = 0; i < n - 1; i++) {
      String reason = ServiceId.Labels.invalidLabelReason(labels[i]);
      if (reason != null) {
        return what[skip + i] + " '" + labels[i] + "' is not a valid label: " + reason;
      }
    }
    if (n < 2) {
      return null;
    }
    String policy = labels[n - 2].toLowerCase(Locale.ROOT);
    String instance = n < 3 ? null : labels[n - 3].toLowerCase(Locale.ROOT);
    if (instance == null || instance.equals(ANY)) {
      if (policy.equals(NONE)) {
        return instance == null ? null : "'any.none' names no address: use any.<policy> or <n>.none";
      }
      if (policy.equals(ANY)) {
        return "'any' is not a policy";
      }
      return knownPolicy.test(policy) ? null : "unknown routing policy '" + policy + "'";
    }
    if (parseOrdinal(instance) < 0) {
      return "instance must be 'any' or a non-negative integer, got '" + instance + "'";
    }
    if (!policy.equals(NONE)) {
      return "an instance number selects one instance; its policy must be 'none', got '" + policy + "'";
    }
    return null;
  }

  private static int parseOrdinal(String s) {
    if (s.isEmpty() || s.length() > 9) {
      return -1;
    }
    if (s.length() > 1 && s.charAt(0) == '0') {
      return -1; // one spelling per instance, so names round-trip
    }
    int v = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }

  public ServiceId service() {
    return service;
  }

  /** True if the name selects one instance ({@code <n>.none}). */
  public boolean isInstance() {
    return policy == null;
  }

  /** The instance ordinal; only meaningful if {@link #isInstance()}. */
  public int instance() {
    if (policy != null) {
      throw new IllegalStateException(this + " names a policy, not an instance");
    }
    return instance;
  }

  /** The routing policy; only meaningful if not {@link #isInstance()}. */
  public String policy() {
    if (policy == null) {
      throw new IllegalStateException(this + " names an instance, not a policy");
    }
    return policy;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof SemanticName)) {
      return false;
    }
    SemanticName other = (SemanticName) o;
    return instance == other.instance && service.equals(other.service) && Objects.equals(policy, other.policy);
  }

  @Override
  public int hashCode() {
    return Objects.hash(service, instance, policy);
  }

  /** The canonical lower-case name without a trailing dot. */
  @Override
  public String toString() {
    return service + "." + (policy == null ? Integer.toString(instance) + '.' + NONE : ANY + '.' + policy) + '.' + ZONE;
  }

  /** Outcome of {@link #tryParse}: a name, or the reason there is none. Immutable. */
  public static final class Result {
    private final SemanticName name;
    private final String reason;

    private Result(SemanticName name, String reason) {
      this.name = name;
      this.reason = reason;
    }

    static Result of(SemanticName name) {
      return new Result(name, null);
    }

    static Result rejected(String reason) {
      return new Result(null, reason);
    }

    public boolean isValid() {
      return name != null;
    }

    /** The parsed name, or null if rejected. */
    public SemanticName name() {
      return name;
    }

    /** Why the name was rejected, or null if it is valid. */
    public String reason() {
      return reason;
    }
  }
}
