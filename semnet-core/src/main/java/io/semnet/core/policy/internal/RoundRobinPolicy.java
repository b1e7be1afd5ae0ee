package io.semnet.core.policy.internal;

import io.semnet.core.policy.CandidateSet;
import io.semnet.core.policy.InstanceSelector;
import io.semnet.core.policy.NodeView;
import io.semnet.core.policy.RoutingPolicy;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code rr}: a true rotation per ServiceIP. Each new flow atomically takes the next position of
 * the rotation (a compare-and-set, so no division per flow), so under any concurrency n·k choices
 * over n available candidates pick each exactly k times. Unavailable candidates are skipped: the rotation runs over the available ones.
 *
 * <p>Which candidates are available is derived once per (candidate set generation, view version),
 * so a choice is one ticket and one array read however many candidates there are.
 */
public final class RoundRobinPolicy implements RoutingPolicy {
  public static final String NAME = "rr";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public InstanceSelector newSelector() {
    return new Selector();
  }

  /** Derives the available candidates. */
  private static final class Selector extends DerivingSelector.SubsetSelector {
    /** The next position in the rotation; may exceed the current count after candidates went away. */
    private final AtomicInteger position = new AtomicInteger();

    @Override
    int pick(Subset d, long affinityKey) {
      return d.index[take(d.index.length)];
    }

    /** Takes the next position of a rotation over {@code m} (positive) entries. */
    private int take(int m) {
      while (true) {
        int cur = position.get();
        int p = cur < m ? cur : cur % m;
        if (position.compareAndSet(cur, p + 1 < m ? p + 1 : 0)) {
          return p;
        }
      }
    }

    @Override
    Subset derive(CandidateSet c, NodeView view, long version, Subset previous) {
      return new Subset(c, view, version, availableIndices(c, view), false);
    }

    /** The choice computed without derived state: the next position, then the first available from there. */
    @Override
    int scan(CandidateSet candidates, long affinityKey, NodeView view) {
      int n = candidates.size();
      if (n == 0) {
        return NONE;
      }
      int start = take(n);
      for (int i = 0; i < n; i++) {
        int idx = start + i < n ? start + i : start + i - n;
        if (view.isAvailable(candidates.get(idx))) {
          return idx;
        }
      }
      return NONE;
    }
  }
}
