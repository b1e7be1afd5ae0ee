package io.semnet.core.route;

import java.util.Objects;

/**
 * The outcome of a route query: {@link Status#FOUND} with a route, {@link Status#NOT_FOUND} when the
 * service managers say no such route exists (or the caller may not see it), or
 * {@link Status#UNAVAILABLE} when they could not be asked. Immutable.
 */
public final class Resolution {
  /** What a query found. */
  public enum Status {
    FOUND,
    NOT_FOUND,
    UNAVAILABLE
  }

  private final Status status;
  private final Route route;
  private final String reason;

  private Resolution(Status status, Route route, String reason) {
    this.status = status;
    this.route = route;
    this.reason = reason;
  }

  public static Resolution found(Route route) {
    return new Resolution(Status.FOUND, Objects.requireNonNull(route, "route"), null);
  }

  public static Resolution notFound(String reason) {
    return new Resolution(Status.NOT_FOUND, null, Objects.requireNonNull(reason, "reason"));
  }

  public static Resolution unavailable(String reason) {
    return new Resolution(Status.UNAVAILABLE, null, Objects.requireNonNull(reason, "reason"));
  }

  public Status status() {
    return status;
  }

  public boolean isFound() {
    return status == Status.FOUND;
  }

  /** The route if found, else null. */
  public Route route() {
    return route;
  }

  /** Why nothing was found, or null if found. */
  public String reason() {
    return reason;
  }

  @Override
  public String toString() {
    return status == Status.FOUND ? "Resolution{" + route + "}" : "Resolution{" + status + ": " + reason + "}";
  }
}
