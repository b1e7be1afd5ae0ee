package io.semnet.core.policy.internal;

import io.semnet.core.policy.CandidateSet;
import io.semnet.core.policy.InstanceSelector;
import io.semnet.core.policy.NodeView;
import io.semnet.core.policy.RoutingPolicy;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code rr}: a true rotation per ServiceIP. Each new flow takes the next ticket of an atomic
 * counter, so under any concurrency n·k choices over n available candidates pick each exactly k
 * times. Unavailable candidates are skipped.
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

  private static final class Selector implements InstanceSelector {
    private final AtomicLong ticket = new AtomicLong();

    @Override
    public int select(CandidateSet candidates, long affinityKey, NodeView view) {
      int n = candidates.size();
      if (n == 0) {
        return NONE;
      }
      int start = (int) Long.remainderUnsigned(ticket.getAndIncrement(), n);
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
