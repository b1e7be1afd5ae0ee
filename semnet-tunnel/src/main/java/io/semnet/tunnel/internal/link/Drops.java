package io.semnet.tunnel.internal.link;

import io.semnet.tunnel.DropReason;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/** The tunnel's drop counters, one per {@link DropReason}; a drop tied to a link also counts on the link. Thread-safe. */
public final class Drops {
  private final AtomicLongArray counts = new AtomicLongArray(DropReason.values().length);

  /** Counts a drop that belongs to no link. */
  public void drop(DropReason r) {
    counts.incrementAndGet(r.ordinal());
  }

  /** Counts a drop on the tunnel and on {@code l}. */
  public void drop(DropReason r, Link l) {
    counts.incrementAndGet(r.ordinal());
    l.drops.incrementAndGet();
  }

  /** Counts a drop on the tunnel and, if {@code l} is not null, on the link. */
  public void dropMaybeLink(DropReason r, Link l) {
    if (l == null) {
      drop(r);
    } else {
      drop(r, l);
    }
  }

  /** A snapshot of every counter. */
  public Map<DropReason, Long> snapshot() {
    Map<DropReason, Long> d = new EnumMap<>(DropReason.class);
    for (DropReason r : DropReason.values()) {
      d.put(r, counts.get(r.ordinal()));
    }
    return d;
  }
}
