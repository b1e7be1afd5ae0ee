package io.semnet.proxy.internal;

import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.record.InstanceKey;
import io.semnet.proxy.Counter;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Passive health of the instances this node's clients choose, derived from what the data path
 * sees anyway, and ejection from new-flow selection (Envoy's outlier detection, Linkerd's failure
 * accrual). Failures: a TCP SYN of a new flow without SYN-ACK within {@code synTimeout}; an ICMP
 * destination unreachable (not fragmentation-needed) about a flow to the instance; a route-not-found
 * from the node the instance's record still names; a UDP flow that had replies and kept sending
 * for {@code udpSilence} without one (a flow that never had a reply never counts, so one-way UDP
 * services are never ejected). A success (SYN-ACK, UDP reply) clears the failures and the back-off.
 *
 * <p>{@code failuresToEject} failures in a row eject the instance through
 * {@link LocalNodeView#setEjected}, so every policy skips it for new flows; established flows are
 * never touched. An ejection lasts {@code baseEjection} doubled per ejection in a row, at most
 * {@code maxEjection}, and is refused (counted) while the service already has
 * {@code maxEjectedPercent} of its instances ejected (rounded down: a service with one instance is
 * never ejected). The sweep brings instances back when their time is up.
 *
 * <p>Per packet: a few volatile reads of the flow's {@link Cell} (reached from the flow, no lookup)
 * and a write only when a pending state starts or ends; no allocation. A cell is made once per
 * instance at its first flow. Decisions take this object's lock, off the per-packet path.
 */
final class Health {
  private static final Logger log = LoggerFactory.getLogger(Health.class);
  /** No pending SYN or UDP silence. */
  static final long NONE = Long.MIN_VALUE;
  /** Cells of instances without ejection or pending state unused this long are forgotten. */
  private static final long FORGET_MS = 10 * 60_000L;

  private final HealthConfig c;
  private final ConcurrentHashMap<InstanceKey, Cell> cells = new ConcurrentHashMap<>();
  private LocalNodeView view;

  Health(HealthConfig config) {
    this.c = config;
  }

  void start(Wiring w) {
    this.view = w.view();
  }

  /** An instance's health state; pending fields are written on the data path, the rest under the lock. */
  static final class Cell {
    final InstanceKey key;
    /** Coarse millis of the oldest SYN of a new flow not answered since, or {@link #NONE}. */
    volatile long synSince = NONE;
    /** Coarse millis of the first packet sent on a replied UDP flow after the last reply, or {@link #NONE}. */
    volatile long udpSince = NONE;
    /** Coarse millis of the last such packet. */
    volatile long udpLast = NONE;
    /** Instances of the service in the record last seen (for the cap). */
    volatile int serviceSize;
    volatile long lastUsed;
    /** True while failures or back-off are on record (a success then takes the lock once). */
    volatile boolean marked;
    volatile boolean ejected;
    int failures;
    int ejections;
    long ejectedUntil;

    Cell(InstanceKey key) {
      this.key = key;
    }
  }

  /** The cell of a new flow's instance (made at its first flow); {@code serviceSize} from the route's record. */
  Cell cell(InstanceKey key, int serviceSize, long now) {
    Cell cell = cells.get(key);
    if (cell == null) {
      cell = cells.computeIfAbsent(key, Cell::new);
    }
    if (cell.serviceSize != serviceSize) {
      cell.serviceSize = serviceSize;
    }
    if (cell.lastUsed != now) {
      cell.lastUsed = now; // coarse millis: most new flows find it written already
    }
    return cell;
  }

  /**
   * Before a new flow goes to {@code key}: if its oldest SYN is overdue, that is a failure now
   * rather than at the next sweep. True if the instance is ejected (choose again).
   */
  boolean failedBeforeUse(ThreadScratch w, InstanceKey key, long now) {
    Cell cell = cells.get(key);
    return cell != null && failedBeforeUse(w, cell, now);
  }

  /** {@link #failedBeforeUse(ThreadScratch, InstanceKey, long)} for the cell a new flow already took. */
  boolean failedBeforeUse(ThreadScratch w, Cell cell, long now) {
    long s = cell.synSince;
    if (s != NONE && now - s >= c.synTimeoutMs()) {
      cell.synSince = NONE;
      failure(w, cell, now);
    }
    return cell.ejected;
  }

  /** A new flow's SYN went to the instance. */
  static void synSent(Cell cell, long now) {
    if (cell.synSince == NONE) {
      cell.synSince = now;
    }
  }

  /** A SYN-ACK came from the instance. */
  void synAnswered(Cell cell) {
    if (cell.synSince != NONE) {
      cell.synSince = NONE;
    }
    succeeded(cell);
  }

  /**
   * A packet of a client UDP flow to the instance: a reply ({@code inbound}) marks the flow replied
   * and ends any silence; a packet sent on a replied flow starts one.
   */
  void udp(Flow f, Cell cell, boolean inbound, long now) {
    if (inbound) {
      if ((f.flags & Flow.F_REPLIED) == 0) {
        f.addFlags(Flow.F_REPLIED);
      }
      if (cell.udpSince != NONE) {
        cell.udpSince = NONE;
      }
      succeeded(cell);
    } else if ((f.flags & Flow.F_REPLIED) != 0) {
      if (cell.udpSince == NONE || now - cell.udpLast >= c.udpSilenceMs()) {
        cell.udpSince = now; // a sender that paused longer than the bound starts a new silence
      }
      if (cell.udpLast != now) {
        cell.udpLast = now;
      }
    }
  }

  /** An ICMP error about a client flow, from the instance's side: destination unreachable is a failure. */
  void icmpError(ThreadScratch w, Flow f, boolean v6, int type, int code, long now) {
    Cell cell = f.health;
    if (cell != null && (v6 ? type == 1 : type == 3 && code != 4)) {
      failure(w, cell, now);
    }
  }

  /** The node the instance's record names answered route-not-found for it. */
  void routeNotFound(ThreadScratch w, Cell cell, long now) {
    failure(w, cell, now);
  }

  /** True if {@code key} is ejected now (for tests and inspection). */
  boolean isEjected(InstanceKey key) {
    Cell cell = cells.get(key);
    return cell != null && cell.ejected;
  }

  /** Overdue SYNs and UDP silences become failures; ejections that are over end; idle cells go. Control thread. */
  void sweep(ThreadScratch w, long now) {
    for (Cell cell : cells.values()) {
      long s = cell.synSince;
      if (s != NONE && now - s >= c.synTimeoutMs()) {
        cell.synSince = NONE;
        failure(w, cell, now);
      }
      long u = cell.udpSince;
      if (u != NONE && now - u >= c.udpSilenceMs()) {
        cell.udpSince = NONE;
        if (cell.udpLast - u >= c.udpSilenceMs() / 2 && now - cell.udpLast < c.udpSilenceMs()) {
          failure(w, cell, now); // kept sending through the bound without a reply
        }
      }
      if (cell.ejected) {
        reinstateIfDue(w, cell, now);
      } else if (!cell.marked && now - cell.lastUsed > FORGET_MS && cell.synSince == NONE && cell.udpSince == NONE) {
        cells.remove(cell.key, cell);
      }
    }
  }

  private void failure(ThreadScratch w, Cell cell, long now) {
    w.counts[Counter.HEALTH_FAILURES.ordinal()]++;
    long until;
    synchronized (this) {
      cell.marked = true;
      if (cell.ejected || ++cell.failures < c.failuresToEject()) {
        return;
      }
      if (ejectedIn(cell) + 1 > cell.serviceSize * c.maxEjectedPercent() / 100) {
        w.counts[Counter.EJECTIONS_CAPPED.ordinal()]++;
        return;
      }
      long d = c.baseEjectionMs() << Math.min(cell.ejections, 20);
      until = now + Math.min(d, c.maxEjectionMs());
      cell.ejections++;
      cell.failures = 0;
      cell.ejectedUntil = until;
      cell.ejected = true;
    }
    view.setEjected(cell.key, true);
    w.counts[Counter.INSTANCES_EJECTED.ordinal()]++;
    log.info("instance {} ejected from new-flow selection for {} ms (ejection {} in a row)", cell.key, until - now,
        cell.ejections);
  }

  /** Instances of {@code cell}'s service ejected now (lock held; ejections are rare). */
  private int ejectedIn(Cell cell) {
    int n = 0;
    for (Cell o : cells.values()) {
      if (o.ejected && o.key.service().equals(cell.key.service())) {
        n++;
      }
    }
    return n;
  }

  private void reinstateIfDue(ThreadScratch w, Cell cell, long now) {
    synchronized (this) {
      if (!cell.ejected || now - cell.ejectedUntil < 0) {
        return;
      }
      cell.ejected = false;
      cell.synSince = NONE;
      cell.udpSince = NONE;
    }
    view.setEjected(cell.key, false);
    w.counts[Counter.INSTANCES_RETURNED.ordinal()]++;
    log.info("instance {} back in new-flow selection", cell.key);
  }

  private void succeeded(Cell cell) {
    if (cell.marked) {
      synchronized (this) {
        cell.failures = 0;
        cell.ejections = 0;
        cell.marked = cell.ejected;
      }
    }
  }
}
