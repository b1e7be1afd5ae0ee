package io.semnet.core.policy;

import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceKey;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;

/**
 * The node's mutable {@link NodeView}: the tunnel reports peer RTTs and liveness, the translator
 * reports flows, set-up latencies and ejections, policies read. Thread-safe; updates for a known peer or
 * instance allocate nothing.
 *
 * <p>{@link #version()} moves after every update that changes a peer's smoothed RTT or up/down
 * state, forgets a peer, or creates or forgets an instance's measurement cell (so handles from
 * {@link #instanceStats} stay valid while it does not move). An update writes its measurement, then
 * bumps the version with one atomic increment: the keepalive thread never does per-policy work.
 */
public final class LocalNodeView implements NodeView {
  /** Weight of a new set-up latency sample in the EWMA. */
  static final double SETUP_EWMA_ALPHA = 0.3;
  /** Weight of a new RTT sample in the smoothed RTT (RFC 6298 uses 1/8). */
  static final double RTT_ALPHA = 0.125;

  private final String localNodeId;
  private final GeoPoint localLocation;
  private final ConcurrentHashMap<String, Peer> peers = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<InstanceKey, Instance> instances = new ConcurrentHashMap<>();
  private final AtomicLong version = new AtomicLong();

  public LocalNodeView(String localNodeId, GeoPoint localLocation) {
    this.localNodeId = Objects.requireNonNull(localNodeId, "localNodeId");
    this.localLocation = localLocation;
  }

  @Override
  public String localNodeId() {
    return localNodeId;
  }

  @Override
  public GeoPoint localLocation() {
    return localLocation;
  }

  @Override
  public long version() {
    return version.get();
  }

  @Override
  public InstanceStats instanceStats(InstanceKey instance) {
    Instance i = instances.get(instance);
    return i == null ? NOT_MEASURED : i;
  }

  @Override
  public long rttNanos(String nodeId) {
    if (localNodeId.equals(nodeId)) {
      return 0;
    }
    Peer p = peers.get(nodeId);
    return p == null ? UNKNOWN : p.srtt.get();
  }

  @Override
  public boolean isPeerUp(String nodeId) {
    Peer p = peers.get(nodeId);
    return p == null || p.up;
  }

  @Override
  public boolean isEjected(InstanceKey instance) {
    Instance i = instances.get(instance);
    return i != null && i.ejected;
  }

  @Override
  public int activeFlows(InstanceKey instance) {
    Instance i = instances.get(instance);
    return i == null ? 0 : i.flows;
  }

  @Override
  public long setupLatencyNanos(InstanceKey instance) {
    Instance i = instances.get(instance);
    return i == null ? UNKNOWN : i.setupEwma;
  }

  /** Records an RTT sample to a peer and marks it up. */
  public void recordPeerRtt(String nodeId, long rttNanos) {
    if (rttNanos < 0) {
      throw new IllegalArgumentException("negative RTT");
    }
    Peer p = peer(nodeId);
    boolean changed = false;
    if (!p.up) {
      p.up = true;
      changed = true;
    }
    if (p.fold(rttNanos) | changed) {
      version.incrementAndGet();
    }
  }

  /** Marks a peer down (probes unanswered) or up again. */
  public void setPeerUp(String nodeId, boolean up) {
    Peer p = peer(nodeId);
    if (p.up != up) {
      p.up = up;
      version.incrementAndGet();
    }
  }

  /** Forgets everything about a peer (e.g. its link was closed). */
  public void forgetPeer(String nodeId) {
    if (peers.remove(nodeId) != null) {
      version.incrementAndGet();
    }
  }

  /**
   * Ejects the instance from new-flow selection ({@code ejected}) or brings it back; the translator's
   * passive health checks decide when (see {@link NodeView}).
   */
  public void setEjected(InstanceKey instance, boolean ejected) {
    Instance i = instance(instance);
    if (i.ejected != ejected) {
      i.ejected = ejected;
      version.incrementAndGet();
    }
  }

  public void flowOpened(InstanceKey instance) {
    Instance.FLOWS.incrementAndGet(instance(instance));
  }

  public void flowClosed(InstanceKey instance) {
    flowsClosed(instance, 1);
  }

  /** {@code n} flows to the instance closed at once (one update, e.g. when a table is cleared). */
  public void flowsClosed(InstanceKey instance, int n) {
    Instance i = instances.get(instance);
    if (i != null && n > 0) {
      i.decrementFlows(n);
    }
  }

  /** Records one observed TCP set-up latency (SYN to SYN-ACK) to an instance. */
  public void recordSetupLatency(InstanceKey instance, long nanos) {
    if (nanos < 0) {
      return;
    }
    instance(instance).foldSetup(nanos);
  }

  /** Drops measurements of an instance that no longer exists. */
  public void forgetInstance(InstanceKey instance) {
    if (instances.remove(instance) != null) {
      version.incrementAndGet();
    }
  }

  /** The EWMA after {@code sample}; the first sample ({@code prev} unknown) is taken as it is. */
  private static long ewma(long prev, long sample, double alpha) {
    return prev < 0 ? sample : (long) (prev + alpha * (sample - prev));
  }

  private Peer peer(String nodeId) {
    Peer p = peers.get(nodeId);
    if (p == null) {
      Peer fresh = new Peer();
      p = peers.putIfAbsent(nodeId, fresh);
      if (p == null) {
        p = fresh;
      }
    }
    return p;
  }

  private Instance instance(InstanceKey key) {
    Instance i = instances.get(key);
    if (i == null) {
      Instance fresh = new Instance();
      i = instances.putIfAbsent(key, fresh);
      if (i == null) {
        i = fresh;
        version.incrementAndGet(); // handles taken before now read NOT_MEASURED
      }
    }
    return i;
  }

  private static final class Peer {
    final AtomicLong srtt = new AtomicLong(UNKNOWN);

    /** Folds an RTT sample into the smoothed RTT; true if it changed. */
    boolean fold(long sample) {
      long prev;
      long next;
      do {
        prev = srtt.get();
        next = ewma(prev, sample, RTT_ALPHA);
      } while (!srtt.compareAndSet(prev, next));
      return next != prev;
    }
    volatile boolean up = true;
  }

  /** Stats of an instance without a measurement cell: no flows, latency unknown. */
  private static final InstanceStats NOT_MEASURED = new InstanceStats() {
    @Override
    public int activeFlows() {
      return 0;
    }

    @Override
    public long setupLatencyNanos() {
      return UNKNOWN;
    }
  };

  /** An instance's measurements, in plain volatile fields so policies read them in one hop. */
  private static final class Instance implements InstanceStats {
    static final AtomicIntegerFieldUpdater<Instance> FLOWS =
        AtomicIntegerFieldUpdater.newUpdater(Instance.class, "flows");
    static final AtomicLongFieldUpdater<Instance> SETUP_EWMA =
        AtomicLongFieldUpdater.newUpdater(Instance.class, "setupEwma");

    volatile int flows;
    volatile long setupEwma = UNKNOWN;
    volatile boolean ejected;

    /** Takes {@code n} flows off the count, never below zero. */
    void decrementFlows(int n) {
      int v;
      do {
        v = flows;
      } while (v > 0 && !FLOWS.compareAndSet(this, v, Math.max(0, v - n)));
    }

    void foldSetup(long sample) {
      long prev;
      do {
        prev = setupEwma;
      } while (!SETUP_EWMA.compareAndSet(this, prev, ewma(prev, sample, SETUP_EWMA_ALPHA)));
    }

    @Override
    public int activeFlows() {
      return flows;
    }

    @Override
    public long setupLatencyNanos() {
      return setupEwma;
    }
  }
}
