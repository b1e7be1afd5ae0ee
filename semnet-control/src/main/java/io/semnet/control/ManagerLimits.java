package io.semnet.control;


/**
 * What a {@link ServiceManager} lets one client (a worker, or a cluster at the root) ask of it, so
 * that a misbehaving client cannot starve the others. Immutable; {@link #defaults()} holds the
 * documented defaults, {@link #builder()} changes some of them.
 *
 * <ul>
 *   <li><b>rate</b>: a token bucket per client, {@code requestsPerSecond} refilled up to
 *       {@code burst}; every request takes a token, and a request that makes the manager ask its
 *       upstream (a cluster's miss or a renewal of a record it lacks) takes one more per upstream
 *       request. A request without a token is answered {@code ErrorReply} {@code RATE_LIMITED};
 *       upstream fetches of a renewal past the tokens are skipped (the client renews again later).
 *   <li><b>outstanding</b>: at most {@code maxOutstanding} requests of one client in progress (its
 *       upstream queries included); more are answered {@code TOO_MANY_OUTSTANDING}.
 *   <li><b>fetches per renewal</b>: a renewal asks upstream for at most {@code maxFetchesPerRenew}
 *       records the manager lacks.
 * </ul>
 *
 * <p>Each client's queue of requests not yet started is bounded by the transport
 * ({@code maxQueuedRequests} of {@code InProcessTransport} and {@code MqttTransport}, default 4,096,
 * answered {@code OVERLOADED}). Refusals are counted per code ({@link ServiceManager#refusedRequests}).
 */
public final class ManagerLimits {
  private static final ManagerLimits DEFAULTS = new Builder().build();

  private final double requestsPerSecond;
  private final int burst;
  private final int maxOutstanding;
  private final int maxFetchesPerRenew;
  private final double clusterRequestsPerSecond;
  private final int clusterBurst;
  private final int clusterMaxOutstanding;

  private ManagerLimits(Builder b) {
    this.clusterRequestsPerSecond = b.clusterRequestsPerSecond;
    this.clusterBurst = b.clusterBurst;
    this.clusterMaxOutstanding = b.clusterMaxOutstanding;
    this.requestsPerSecond = b.requestsPerSecond;
    this.burst = b.burst;
    this.maxOutstanding = b.maxOutstanding;
    this.maxFetchesPerRenew = b.maxFetchesPerRenew;
  }

  /**
   * Per worker: 200 requests/s with a burst of 400, 64 outstanding, 32 upstream fetches per
   * renewal. Per cluster manager (a client of the root that speaks for all its workers): 20,000
   * requests/s with a burst of 40,000, 4,096 outstanding.
   */
  public static ManagerLimits defaults() {
    return DEFAULTS;
  }

  public static Builder builder() {
    return new Builder();
  }

  public double requestsPerSecond() {
    return requestsPerSecond;
  }

  public int burst() {
    return burst;
  }

  public int maxOutstanding() {
    return maxOutstanding;
  }

  public int maxFetchesPerRenew() {
    return maxFetchesPerRenew;
  }

  public double clusterRequestsPerSecond() {
    return clusterRequestsPerSecond;
  }

  public int clusterBurst() {
    return clusterBurst;
  }

  public int clusterMaxOutstanding() {
    return clusterMaxOutstanding;
  }

  @Override
  public String toString() {
    return "ManagerLimits{" + requestsPerSecond + "/s, burst " + burst + ", outstanding " + maxOutstanding
        + ", fetches/renew " + maxFetchesPerRenew + "}";
  }

  /** Configures {@link ManagerLimits}; unset values keep their defaults. */
  public static final class Builder {
    private double requestsPerSecond = 200;
    private int burst = 400;
    private int maxOutstanding = 64;
    private int maxFetchesPerRenew = 32;
    private double clusterRequestsPerSecond = 20_000;
    private int clusterBurst = 40_000;
    private int clusterMaxOutstanding = 4_096;

    private Builder() {}

    /**
     * The limits of a client that greeted as a cluster manager (default 20,000/s, burst 40,000,
     * 4,096 outstanding): it forwards the misses of all its workers. Only cluster identities may
     * publish to the root's request topics under the documented MQTT ACL.
     */
    public Builder clusterLimits(double requestsPerSecond, int burst, int maxOutstanding) {
      if (!(requestsPerSecond > 0) || Double.isInfinite(requestsPerSecond) || burst < 1 || maxOutstanding < 1) {
        throw new IllegalArgumentException("cluster limits must be positive");
      }
      this.clusterRequestsPerSecond = requestsPerSecond;
      this.clusterBurst = burst;
      this.clusterMaxOutstanding = maxOutstanding;
      return this;
    }

    /** Sustained requests per second per client (default 200). */
    public Builder requestsPerSecond(double rate) {
      if (!(rate > 0) || Double.isInfinite(rate)) {
        throw new IllegalArgumentException("rate must be positive");
      }
      this.requestsPerSecond = rate;
      return this;
    }

    /** Requests a client may send at once after being idle (default 400). */
    public Builder burst(int burst) {
      if (burst < 1) {
        throw new IllegalArgumentException("burst must be >= 1");
      }
      this.burst = burst;
      return this;
    }

    /** Requests of one client in progress at a time (default 64). */
    public Builder maxOutstanding(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxOutstanding must be >= 1");
      }
      this.maxOutstanding = max;
      return this;
    }

    /** Records a renewal may make the manager fetch from upstream (default 32). */
    public Builder maxFetchesPerRenew(int max) {
      if (max < 0) {
        throw new IllegalArgumentException("maxFetchesPerRenew must be >= 0");
      }
      this.maxFetchesPerRenew = max;
      return this;
    }

    public ManagerLimits build() {
      return new ManagerLimits(this);
    }
  }
}
