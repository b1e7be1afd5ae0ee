package io.semnet.core.policy.internal;

import io.semnet.core.policy.CandidateSet;
import io.semnet.core.policy.InstanceSelector;
import io.semnet.core.policy.NodeView;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A selector that derives its work from (candidate set, its generation, view, view version) once,
 * into an immutable {@link Derived} snapshot published through one volatile field, and reuses it
 * for every choice until one of the four changes. A choice on an unchanged snapshot is a version
 * read, four comparisons and the policy's own few reads.
 *
 * <p>Guarantees:
 * <ul>
 *   <li>Rebuilds are lazy (on the first choice after a change) and coalesced: one thread at a time
 *       rebuilds a selector's snapshot; a thread that finds another rebuilding computes its choice
 *       directly (exactly, without publishing) rather than wait or use stale state. So each change
 *       costs at most one published rebuild per selector that is used, and none for idle ones.
 *   <li>A snapshot is tagged with the version read <em>before</em> deriving, and views write a
 *       measurement before bumping the version, so a snapshot is never newer than its tag: a choice
 *       reflects every update completed before it started and at most partly the updates racing
 *       with it. Snapshots are immutable, so a choice never sees a torn one.
 *   <li>With a view that is {@link NodeView#UNVERSIONED}, nothing is cached: every choice computes
 *       directly.
 * </ul>
 *
 * @param <D> the policy's snapshot type
 */
abstract class DerivingSelector<D extends DerivingSelector.Derived> implements InstanceSelector {
  private volatile D current;
  private final AtomicBoolean building = new AtomicBoolean();
  private final AtomicLong rebuilds = new AtomicLong();

  /**
   * The snapshot for {@code c} and {@code view} as they are now, or null if the caller must compute
   * its choice directly (the view is unversioned, or another thread is rebuilding right now).
   */
  final D derived(CandidateSet c, NodeView view) {
    long version = view.version();
    D d = current;
    if (d != null && d.isFor(c, view, version)) {
      return d;
    }
    return version == NodeView.UNVERSIONED ? null : rebuild(c, view, d);
  }

  private D rebuild(CandidateSet c, NodeView view, D previous) {
    if (!building.compareAndSet(false, true)) {
      return null;
    }
    try {
      // Another thread may have rebuilt between our first look and taking the flag.
      long version = view.version();
      D d = current;
      if (d != null && d.isFor(c, view, version)) {
        return d;
      }
      d = derive(c, view, version, d != null ? d : previous);
      current = d;
      rebuilds.incrementAndGet();
      return d;
    } finally {
      building.set(false);
    }
  }

  /**
   * Derives the snapshot for {@code c} at {@code version}, reading the view only after the version
   * was read. May allocate (this runs once per change, not per choice).
   *
   * @param previous the last snapshot (possibly of another set or view) whose parts that do not
   *     depend on what changed may be reused, or null
   */
  abstract D derive(CandidateSet c, NodeView view, long version, D previous);

  /** The last published snapshot (possibly for another set, view or version), or null. */
  final D peek() {
    return current;
  }

  /** Snapshots published so far (for tests and benchmarks). */
  final long rebuilds() {
    return rebuilds.get();
  }

  /** Indices of the candidates {@code view} reports available, ascending. */
  static int[] availableIndices(CandidateSet c, NodeView view) {
    int n = c.size();
    int[] idx = new int[n];
    int m = 0;
    for (int i = 0; i < n; i++) {
      if (view.isAvailable(c.get(i))) {
        idx[m++] = i;
      }
    }
    return m == n ? idx : java.util.Arrays.copyOf(idx, m);
  }

  /**
   * A selector whose whole choice is a function of (candidates, view measurements at a version):
   * it is computed once per change and every flow gets the same answer.
   */
  abstract static class FixedChoice extends DerivingSelector<Fixed> {
    @Override
    public final int select(CandidateSet candidates, long affinityKey, NodeView view) {
      Fixed d = derived(candidates, view);
      return d != null ? d.choice : scan(candidates, view);
    }

    @Override
    final Fixed derive(CandidateSet c, NodeView view, long version, Fixed previous) {
      return new Fixed(c, view, version, choose(c, view));
    }

    /** The choice computed from scratch without allocating (for uncached choices). */
    abstract int scan(CandidateSet c, NodeView view);

    /** The choice computed from scratch when deriving; may allocate. Defaults to {@link #scan}. */
    int choose(CandidateSet c, NodeView view) {
      return scan(c, view);
    }
  }

  /**
   * A snapshot that is some of the candidates (ascending indices), with their
   * {@link NodeView#instanceStats} handles when the policy reads per-flow measurements.
   */
  static final class Subset extends Derived {
    final int[] index;
    /** {@code stats[j]} is the handle of candidate {@code index[j]}; null if not asked for. */
    final NodeView.InstanceStats[] stats;

    Subset(CandidateSet set, NodeView view, long version, int[] index, boolean withStats) {
      super(set, view, version);
      this.index = index;
      if (withStats) {
        stats = new NodeView.InstanceStats[index.length];
        for (int j = 0; j < index.length; j++) {
          stats[j] = view.instanceStats(set.get(index[j]).key());
        }
      } else {
        stats = null;
      }
    }
  }

  /**
   * A selector that derives a {@link Subset} of the candidates and picks among it per choice; with
   * one member or none, the answer needs no picking.
   */
  abstract static class SubsetSelector extends DerivingSelector<Subset> {
    @Override
    public final int select(CandidateSet candidates, long affinityKey, NodeView view) {
      Subset d = derived(candidates, view);
      if (d == null) {
        return scan(candidates, affinityKey, view);
      }
      int[] index = d.index;
      return index.length > 1 ? pick(d, affinityKey) : index.length == 0 ? NONE : index[0];
    }

    /** The choice among a subset of at least two; without allocating. */
    abstract int pick(Subset d, long affinityKey);

    /** The choice computed from scratch without allocating (for uncached choices). */
    abstract int scan(CandidateSet c, long affinityKey, NodeView view);
  }

  /** A snapshot that is one precomputed choice. */
  static final class Fixed extends Derived {
    final int choice;

    Fixed(CandidateSet set, NodeView view, long version, int choice) {
      super(set, view, version);
      this.choice = choice;
    }
  }

  /** What a selector derived for one (candidate set, generation, view, version). Immutable. */
  abstract static class Derived {
    final CandidateSet set;
    final long generation;
    final NodeView view;
    final long version;

    Derived(CandidateSet set, NodeView view, long version) {
      this.set = set;
      this.generation = set.generation();
      this.view = view;
      this.version = version;
    }

    final boolean isFor(CandidateSet c, NodeView v, long ver) {
      return version == ver && set == c && view == v && generation == c.generation();
    }

    /** True if this snapshot describes the same members as {@code c} (its derived parts that do not depend on the view can be reused). */
    final boolean sameMembers(CandidateSet c) {
      return set == c && generation == c.generation();
    }
  }
}
