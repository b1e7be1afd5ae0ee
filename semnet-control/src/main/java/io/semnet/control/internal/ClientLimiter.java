package io.semnet.control.internal;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Per-client admission of a manager: a token bucket (rate, burst) and a count of requests in
 * progress, plus counters of refusals by reason. Uses {@link System#nanoTime()} (not a test clock:
 * a rate is real time). Thread-safe; holds one small entry per client that ever sent a request
 * (clients are authenticated identities, so the map is bounded by the enrolled nodes).
 */
public final class ClientLimiter {
  private final double perNano;
  private final double burst;
  private final int maxOutstanding;
  private final double clusterPerNano;
  private final double clusterBurst;
  private final int clusterMaxOutstanding;
  private final Map<String, Bucket> clients = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> refused = new ConcurrentHashMap<>();

  private static final class Bucket {
    boolean cluster;
    double tokens;
    long last;
    int outstanding;
  }

  /** Limits for workers, and the (higher) limits for clients that greeted as cluster managers. */
  public ClientLimiter(double requestsPerSecond, int burst, int maxOutstanding,
      double clusterRequestsPerSecond, int clusterBurst, int clusterMaxOutstanding) {
    this.perNano = requestsPerSecond / 1e9;
    this.burst = burst;
    this.maxOutstanding = maxOutstanding;
    this.clusterPerNano = clusterRequestsPerSecond / 1e9;
    this.clusterBurst = clusterBurst;
    this.clusterMaxOutstanding = clusterMaxOutstanding;
  }

  /** Applies the cluster limits (or the worker limits) to {@code client} from now on. */
  public void setCluster(String client, boolean cluster) {
    Bucket b = bucket(client);
    synchronized (b) {
      if (b.cluster != cluster) {
        b.cluster = cluster;
        b.tokens = cluster ? clusterBurst : Math.min(b.tokens, burst);
      }
    }
  }

  private Bucket bucket(String client) {
    return clients.computeIfAbsent(client, c -> {
      Bucket b = new Bucket();
      b.tokens = burst;
      b.last = System.nanoTime();
      return b;
    });
  }

  private void refill(Bucket b) {
    long now = System.nanoTime();
    b.tokens = b.cluster ? Math.min(clusterBurst, b.tokens + (now - b.last) * clusterPerNano)
        : Math.min(burst, b.tokens + (now - b.last) * perNano);
    b.last = now;
  }

  /** The outcome of {@link #admit}. */
  public enum Admission { ADMITTED, RATE_LIMITED, TOO_MANY_OUTSTANDING }

  /** Takes a token and an outstanding slot for a new request of {@code client}; release the slot with {@link #done}. */
  public Admission admit(String client) {
    Bucket b = bucket(client);
    synchronized (b) {
      refill(b);
      if (b.outstanding >= (b.cluster ? clusterMaxOutstanding : maxOutstanding)) {
        return Admission.TOO_MANY_OUTSTANDING;
      }
      if (b.tokens < 1) {
        return Admission.RATE_LIMITED;
      }
      b.tokens -= 1;
      b.outstanding++;
      return Admission.ADMITTED;
    }
  }

  /** Takes one more token (an upstream request on the client's behalf), or returns false. */
  public boolean tryTake(String client) {
    Bucket b = bucket(client);
    synchronized (b) {
      refill(b);
      if (b.tokens < 1) {
        return false;
      }
      b.tokens -= 1;
      return true;
    }
  }

  /** Ends a request admitted by {@link #admit}. */
  public void done(String client) {
    Bucket b = clients.get(client);
    if (b != null) {
      synchronized (b) {
        b.outstanding--;
      }
    }
  }

  /** Counts one refusal with {@code code}. */
  public void count(String code) {
    refused.computeIfAbsent(code, k -> new LongAdder()).increment();
  }

  /** Refusals counted with {@code code} so far. */
  public long refused(String code) {
    LongAdder a = refused.get(code);
    return a == null ? 0 : a.sum();
  }
}
