package io.semnet.proxy.internal;

import io.semnet.core.address.WorkerEndpoint;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Client flows indexed by the remote instance their egress half points at (next hop and namespace
 * address), so that a route-not-found from a peer finds the flows it concerns without scanning the
 * whole table. The flows of one target form an intrusive doubly linked list through
 * {@link Flow#prevByTarget}/{@link Flow#nextByTarget}: adding and removing a flow is O(1), one
 * map lookup, and allocates only for the first flow to a new target. Flows delivered locally (no next hop) and
 * server-side flows are not indexed. Not thread-safe: {@link Flows} calls it under the table's lock.
 */
final class FlowsByTarget {
  private final Map<Key, Head> heads = new HashMap<>();
  private final Key probe = new Key();

  /** Indexes {@code f} under its current egress half (no-op for a flow that is not indexed). */
  void add(Flow f) {
    Half h = f.out;
    if (!indexed(f, h)) {
      return;
    }
    Head head = heads.get(probe.set(h.nextHop, h.v6, h.nDstHi, h.nDstLo));
    if (head == null) {
      head = new Head();
      heads.put(new Key().set(h.nextHop, h.v6, h.nDstHi, h.nDstLo), head);
    }
    Flow first = head.first;
    f.prevByTarget = null;
    f.nextByTarget = first;
    if (first != null) {
      first.prevByTarget = f;
    }
    head.first = f;
  }

  /** Removes {@code f}, indexed under egress half {@code h} (the one it was added with). */
  void remove(Flow f, Half h) {
    if (!indexed(f, h)) {
      return;
    }
    Flow prev = f.prevByTarget;
    Flow next = f.nextByTarget;
    if (next != null) {
      next.prevByTarget = prev;
    }
    if (prev != null) {
      prev.nextByTarget = next;
    } else {
      Head head = heads.get(probe.set(h.nextHop, h.v6, h.nDstHi, h.nDstLo));
      if (head != null && head.first == f) {
        if (next == null) {
          heads.remove(probe);
        } else {
          head.first = next;
        }
      }
    }
    f.prevByTarget = null;
    f.nextByTarget = null;
  }

  /** The flows whose egress goes to {@code hop} for namespace address {@code hi}/{@code lo} (a copy). */
  List<Flow> flowsTo(WorkerEndpoint hop, boolean v6, long hi, long lo) {
    List<Flow> out = new ArrayList<>();
    Head head = heads.get(probe.set(hop, v6, hi, lo));
    for (Flow f = head == null ? null : head.first; f != null; f = f.nextByTarget) {
      out.add(f);
    }
    return out;
  }

  /** Targets with at least one flow. */
  int targets() {
    return heads.size();
  }

  void clear() {
    heads.clear();
  }

  private static boolean indexed(Flow f, Half h) {
    return f.client && h != null && h.nextHop != null;
  }

  /** The first flow of a target's list (a holder, so adding to a known target is one lookup, no put). */
  private static final class Head {
    Flow first;
  }

  /** A remote instance: next hop, family and namespace address. Mutable only as the probe. */
  private static final class Key {
    WorkerEndpoint hop;
    boolean v6;
    long hi;
    long lo;

    Key set(WorkerEndpoint hop, boolean v6, long hi, long lo) {
      this.hop = hop;
      this.v6 = v6;
      this.hi = hi;
      this.lo = lo;
      return this;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Key && ((Key) o).v6 == v6 && ((Key) o).hi == hi && ((Key) o).lo == lo
          && Objects.equals(((Key) o).hop, hop);
    }

    @Override
    public int hashCode() {
      return Long.hashCode(hi * 31 + lo) * 31 + hop.hashCode() + (v6 ? 1 : 0);
    }
  }
}
