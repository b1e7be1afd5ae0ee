package io.semnet.proxy.internal;

import io.semnet.core.policy.LocalNodeView;
import io.semnet.proxy.Counter;
import io.semnet.proxy.FlowInfo;
import io.semnet.proxy.internal.packet.AddressWords;
import io.semnet.proxy.internal.packet.PacketView;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The life of flows in the conversion table: inserting a flow's two halves (the newest flow wins
 * a key collision), evicting the least recently used of a sample when the table is full, removing
 * flows (telling the node view a client flow closed), expiring idle flows and stale fragment
 * entries, and re-pointing a flow's egress half. Lookups do not come here: the data path reads
 * the {@link FlowTable} directly, lock-free. Writers serialise on the table's monitor.
 *
 * <h2>Recycling</h2>
 *
 * A new flow takes its {@link Flow} and two {@link Half} objects from a pool instead of allocating
 * them ({@link FlowPool}: a removed flow is reused only once no reader can still hold it).
 * Recycling bumps {@link Flow#gen}, which holders beyond one call check
 * ({@link #remove(Flow, int)}, {@link #replaceOut(Flow, int, Half, Half)}).
 */
public final class Flows {
  private static final int TCP = PacketView.PROTO_TCP;
  private static final int UDP = PacketView.PROTO_UDP;

  private final FlowTable table;
  /** Client flows by remote instance; guarded by the table. */
  private final FlowsByTarget byTarget = new FlowsByTarget();
  private final int maxFlows;
  private final long tcpEstablishedMs;
  private final long tcpTransitoryMs;
  private final long tcpClosingMs;
  private final long udpMs;
  private final long icmpMs;
  private final long fragmentMs;
  private final int maxFragments;
  private final int fragmentsPerFlow;
  /** Fragment-tracking entries in the table; guarded by the table. */
  private int fragmentCount;
  /** Guarded by the table. */
  private int flowCount;
  /** Guarded by the table. */
  private int evictCursor;
  private LocalNodeView view;
  /** Recycled flow objects; guarded by the table. */
  private FlowPool pool;

  Flows(TranslatorConfig c, FlowTable table) {
    this.table = table;
    this.maxFlows = c.maxFlows();
    this.tcpEstablishedMs = c.tcpEstablishedMs();
    this.tcpTransitoryMs = c.tcpTransitoryMs();
    this.tcpClosingMs = c.tcpClosingMs();
    this.udpMs = c.udpMs();
    this.icmpMs = c.icmpMs();
    this.fragmentMs = c.fragmentMs();
    this.maxFragments = c.maxFragments();
    this.fragmentsPerFlow = c.fragmentsPerFlow();
  }

  void start(Wiring wiring) {
    this.view = wiring.view();
  }

  /** The threads whose quiescent points recycling waits for (set once, before start). */
  void connect(ThreadScratches scratches) {
    this.pool = new FlowPool(table, maxFlows, scratches);
  }

  /**
   * A flow object for a new conversation, with its two halves, to be initialised by the caller: a
   * recycled one when the pool has one, else a new one. Allocation-free while recycling keeps up.
   */
  Flow obtain(ThreadScratch w) {
    return pool.obtain(w);
  }

  /** Queues a removed flow for recycling. Under the lock. */
  private void retire(Flow f) {
    pool.retire(f);
  }

  /** Flows handed out again from the pool so far. */
  public long recycledCount() {
    synchronized (table) {
      return pool.recycled();
    }
  }

  /** Flows in the table. */
  public int count() {
    synchronized (table) {
      return flowCount;
    }
  }

  /**
   * Forgets every flow; client flows are reported closed to the node view, one update per instance.
   * The table's drain ends with a full fence, so each flow is only marked removed (release).
   */
  public void clear() {
    Map<io.semnet.core.record.InstanceKey, int[]> closed = new IdentityHashMap<>();
    synchronized (table) {
      table.drain(h -> {
        if (h.dir == Half.EGRESS && !h.flow.removed) {
          Flow f = h.flow;
          f.markRemoved();
          if (f.tally != null) {
            f.tally.removed();
          }
          if (f.client) {
            closed.computeIfAbsent(f.instance, k -> new int[1])[0]++;
          }
          retire(f);
        }
      });
      byTarget.clear();
      flowCount = 0;
      fragmentCount = 0;
    }
    closed.forEach((k, n) -> view.flowsClosed(k, n[0]));
  }

  /** Inserts both halves of a new flow; false (nothing inserted) if a key stays taken. */
  boolean insert(ThreadScratch w, Flow f) {
    synchronized (table) {
      if (flowCount >= maxFlows) {
        evictOne(w);
      }
      // A key already taken belongs to an older conversation that replies can no longer be told
      // apart from (e.g. one UDP socket reaching one instance through its ServiceIP and its
      // InstanceIP): the newest flow wins, as replies most likely answer the latest request.
      if (!insertHalf(w, f.out) || !insertHalf(w, f.in)) {
        f.removed = true;
        retire(f); // its egress half may have been visible for a moment
        return false;
      }
      flowCount++;
      byTarget.add(f);
      if (f.tally != null) {
        f.tally.inserted();
      }
      return true;
    }
  }

  /** One half of {@link #insert}: the newest flow wins a taken key; false if it stays taken (the egress half is then withdrawn). */
  private boolean insertHalf(ThreadScratch w, Half h) {
    Half existing = table.insert(h);
    if (existing == null) {
      return true;
    }
    remove(existing.flow);
    w.counts[Counter.FLOWS_SUPERSEDED.ordinal()]++;
    if (table.insert(h) == null) {
      return true;
    }
    if (h == h.flow.in) {
      table.remove(h.flow.out);
    }
    return false;
  }

  /**
   * Inserts a fragment-tracking entry unless the total or its flow's cap is reached (false: the
   * caller drops the datagram); an entry already present counts as inserted.
   */
  boolean insertFragment(Half e) {
    synchronized (table) {
      if (fragmentCount >= maxFragments || e.flow.fragments >= fragmentsPerFlow) {
        return false;
      }
      if (table.insert(e) == null) {
        fragmentCount++;
        e.flow.fragments++;
      }
      return true;
    }
  }

  /** Removes a fragment-tracking entry (its datagram's last fragment passed, or it expired). */
  void removeFragment(Half e) {
    synchronized (table) {
      if (table.remove(e)) {
        fragmentCount--;
        e.flow.fragments--;
      }
    }
  }

  /** Fragment-tracking entries in the table. */
  public int fragmentCount() {
    synchronized (table) {
      return fragmentCount;
    }
  }

  /** Evicts the least recently used flow among a sample of buckets (bounded work per insert). */
  private void evictOne(ThreadScratch w) {
    Flow victim = null;
    int seen = 0;
    for (int probe = 0; probe < table.bucketCount() && seen < 32; probe++) {
      evictCursor = (evictCursor + 1) & (table.bucketCount() - 1);
      for (Half h = table.head(evictCursor); h != null; h = h.next) {
        if (h.dir == Half.EGRESS) {
          seen++;
          if (victim == null || h.flow.lastSeen < victim.lastSeen) {
            victim = h.flow;
          }
        }
      }
    }
    if (victim != null) {
      remove(victim);
      w.counts[Counter.FLOWS_EVICTED.ordinal()]++;
    }
  }

  /**
   * Removes a flow (once); a client flow is reported closed to the node view. For a caller inside
   * a data-path call or a control task (the flow cannot be recycled meanwhile); code that kept the
   * flow longer uses {@link #remove(Flow, int)}.
   */
  void remove(Flow f) {
    remove(f, f.gen);
  }

  /** Removes a flow if it still is the conversation of generation {@code gen} and was not removed yet; true if it was removed here. */
  boolean remove(Flow f, int gen) {
    io.semnet.core.record.InstanceKey closed;
    synchronized (table) {
      if (f.removed || f.gen != gen) {
        return false;
      }
      f.removed = true;
      table.remove(f.out);
      table.remove(f.in);
      byTarget.remove(f, f.out);
      flowCount--;
      if (f.tally != null) {
        f.tally.removed();
      }
      closed = f.client ? f.instance : null;
      retire(f);
    }
    if (closed != null) {
      view.flowClosed(closed);
    }
    return true;
  }

  /**
   * Replaces the egress half {@code old} of {@code f} by {@code n} (same key) atomically for
   * readers. Refused (false) if the flow was removed meanwhile, or, with {@code onlyIfCurrent},
   * if {@code old} is no longer the flow's egress half.
   */
  boolean replaceOut(Flow f, Half old, Half n, boolean onlyIfCurrent) {
    synchronized (table) {
      if (f.removed || onlyIfCurrent && f.out != old || n.flow != f) {
        return false;
      }
      table.replace(old, n);
      byTarget.remove(f, old);
      f.out = n;
      byTarget.add(f);
      return true;
    }
  }

  /**
   * {@link #replaceOut} (not only if current) for a caller that kept {@code f} beyond one call:
   * refused if the flow was recycled since generation {@code gen}.
   */
  boolean replaceOut(Flow f, int gen, Half old, Half n) {
    synchronized (table) {
      return f.gen == gen && replaceOut(f, old, n, false);
    }
  }

  /**
   * The client flows whose egress goes to peer {@code hop} for namespace address {@code hi}/{@code
   * lo} (a copy), found through the index, not by scanning the table. Control thread.
   */
  List<Flow> clientFlowsTo(io.semnet.core.address.WorkerEndpoint hop, boolean v6, long hi, long lo) {
    synchronized (table) {
      return byTarget.flowsTo(hop, v6, hi, lo);
    }
  }

  /**
   * Snapshots of up to {@code limit} flows, as of {@code now} (the flows' clock). Holds the table's
   * monitor while it walks the buckets, so writers wait for at most {@code limit} copies.
   */
  public List<FlowInfo> snapshot(int limit, long now) {
    List<FlowInfo> out = new ArrayList<>(Math.min(limit, 1024));
    synchronized (table) {
      for (int i = 0; i < table.bucketCount() && out.size() < limit; i++) {
        for (Half h = table.head(i); h != null && out.size() < limit; h = h.next) {
          if (h.dir == Half.EGRESS && !h.flow.removed) {
            out.add(info(h, now));
          }
        }
      }
    }
    return out;
  }

  private static FlowInfo info(Half h, long now) {
    Flow f = h.flow;
    return new FlowInfo(f.proto, f.client, AddressWords.toInetAddress(h.v6, h.sHi, h.sLo), h.sp,
        AddressWords.toInetAddress(h.v6, h.dHi, h.dLo), h.dp, AddressWords.toInetAddress(h.v6, h.nSrcHi, h.nSrcLo),
        AddressWords.toInetAddress(h.v6, h.nDstHi, h.nDstLo), f.instance, h.nextHop == null ? null : h.nextHop.nodeId(),
        Math.max(0, now - f.created), Math.max(0, now - f.lastSeen), f.bytesOut, f.bytesIn);
  }

  /** Remote instances some client flow points at (the index's size). */
  int indexedTargets() {
    synchronized (table) {
      return byTarget.targets();
    }
  }

  private boolean expired(Flow f, long t) {
    long idle = t - f.lastSeen;
    switch (f.proto) {
      case TCP: {
        int fl = f.flags;
        if ((fl & Flow.F_RST) != 0 || (fl & (Flow.F_FIN_IN | Flow.F_FIN_OUT)) == (Flow.F_FIN_IN | Flow.F_FIN_OUT)) {
          return idle > tcpClosingMs;
        }
        return idle > ((fl & Flow.F_SYNACK) != 0 ? tcpEstablishedMs : tcpTransitoryMs);
      }
      case UDP:
        return idle > udpMs;
      default:
        return idle > icmpMs;
    }
  }

  /** Expires idle flows and stale fragment entries as of {@code t} (coarse millis). Control thread. */
  void sweep(long t, ThreadScratch w) {
    List<Half> doomed = new ArrayList<>();
    // A plain walk of the chains, once a second over every bucket of the table (262,144 at the
    // default maxFlows), with no capturing lambda per bucket: in a profile under iperf3 the
    // lambdas and the walk were 8 % of an agent's CPU samples.
    for (int i = 0; i < table.bucketCount(); i++) {
      for (Half h = table.head(i); h != null; h = h.next) {
        if (h.dir >= Half.FRAGMENT ? t - h.created > fragmentMs : h.dir == Half.EGRESS && expired(h.flow, t)) {
          doomed.add(h);
        }
      }
      if (!doomed.isEmpty()) {
        for (Half h : doomed) {
          if (h.dir >= Half.FRAGMENT) {
            removeFragment(h);
          } else if (!h.flow.removed) {
            remove(h.flow);
            w.counts[Counter.FLOWS_EXPIRED.ordinal()]++;
          }
        }
        doomed.clear();
      }
    }
  }
}
