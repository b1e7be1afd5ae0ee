package io.semnet.core.policy.internal;

import io.semnet.core.policy.CandidateSet;
import io.semnet.core.policy.NodeView;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceRecord;

/**
 * How near a candidate is, as one comparable number: a measured RTT always ranks before a
 * location-based guess, and a guess before knowing nothing. Shared by {@code closest} and
 * {@code closesthc} so both agree on what "close" means.
 */
final class Closeness {
  /** Keys at or above this are distances in metres, offset so they rank after every RTT. */
  private static final long DISTANCE_BASE = 1L << 62;
  static final long UNKNOWN = Long.MAX_VALUE;

  private Closeness() {}

  static long key(InstanceRecord r, NodeView view) {
    long rtt = view.rttNanos(r);
    if (rtt >= 0) {
      return Math.min(rtt, DISTANCE_BASE - 1);
    }
    GeoPoint here = view.localLocation();
    GeoPoint there = r.metadata().location();
    if (here != null && there != null) {
      return DISTANCE_BASE + (long) (here.distanceKm(there) * 1000.0);
    }
    return UNKNOWN;
  }

  /**
   * Index of the available candidate with the smallest (key, index) strictly greater than
   * (afterKey, afterIndex), or -1. Iterating this k times yields the k closest without allocating.
   */
  static int nextClosest(CandidateSet c, NodeView view, long afterKey, int afterIndex) {
    int best = -1;
    long bestKey = UNKNOWN;
    for (int i = 0, n = c.size(); i < n; i++) {
      InstanceRecord r = c.get(i);
      if (!view.isAvailable(r)) {
        continue;
      }
      long k = key(r, view);
      boolean after = k > afterKey || (k == afterKey && i > afterIndex);
      if (!after) {
        continue;
      }
      if (best < 0 || k < bestKey) {
        best = i;
        bestKey = k;
      }
    }
    return best;
  }

  /**
   * The (at most) {@code k} available candidates with the smallest (key, index), closest first:
   * the same ones {@code k} rounds of {@link #nextClosest} yield, in one pass. Allocates; for
   * deriving, not per choice.
   */
  static int[] kClosest(CandidateSet c, NodeView view, int k) {
    int[] idx = new int[Math.min(k, c.size())];
    long[] keys = new long[idx.length];
    int count = 0;
    for (int i = 0, n = c.size(); i < n && idx.length > 0; i++) {
      InstanceRecord r = c.get(i);
      if (!view.isAvailable(r)) {
        continue;
      }
      long key = key(r, view);
      // Indices rise, so among equal keys the earlier one stays ahead: only a smaller key displaces.
      if (count == idx.length && key >= keys[count - 1]) {
        continue;
      }
      int pos = count < idx.length ? count++ : count - 1;
      while (pos > 0 && keys[pos - 1] > key) {
        keys[pos] = keys[pos - 1];
        idx[pos] = idx[pos - 1];
        pos--;
      }
      keys[pos] = key;
      idx[pos] = i;
    }
    return count == idx.length ? idx : java.util.Arrays.copyOf(idx, count);
  }
}
