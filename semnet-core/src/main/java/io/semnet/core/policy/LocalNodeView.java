package io.semnet.core.policy;

import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceKey;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The node's mutable {@link NodeView}: the tunnel reports peer RTTs and liveness, the translator
 * reports flows and set-up latencies, policies read. Thread-safe; updates for a known peer or
 * instance allocate nothing.
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
  public int activeFlows(InstanceKey instance) {
    Instance i = instances.get(instance);
    return i == null ? 0 : i.flows.get();
  }

  @Override
  public long setupLatencyNanos(InstanceKey instance) {
    Instance i = instances.get(instance);
    return i == null ? UNKNOWN : i.setupEwma.get();
  }

  /** Records an RTT sample to a peer and marks it up. */
  public void recordPeerRtt(String nodeId, long rttNanos) {
    if (rttNanos < 0) {
      throw new IllegalArgumentException("negative RTT");
    }
    Peer p = peer(nodeId);
    p.up = true;
    ewma(p.srtt, rttNanos, RTT_ALPHA);
  }

  /** Marks a peer down (probes unanswered) or up again. */
  public void setPeerUp(String nodeId, boolean up) {
    peer(nodeId).up = up;
  }

  /** Forgets everything about a peer (e.g. its link was closed). */
  public void forgetPeer(String nodeId) {
    peers.remove(nodeId);
  }

  public void flowOpened(InstanceKey instance) {
    instance(instance).flows.incrementAndGet();
  }

  public void flowClosed(InstanceKey instance) {
    Instance i = instances.get(instance);
    if (i != null) {
      i.flows.updateAndGet(v -> v > 0 ? v - 1 : 0);
    }
  }

  /** Records one observed TCP set-up latency (SYN to SYN-ACK) to an instance. */
  public void recordSetupLatency(InstanceKey instance, long nanos) {
    if (nanos < 0) {
      return;
    }
    ewma(instance(instance).setupEwma, nanos, SETUP_EWMA_ALPHA);
  }

  /** Drops measurements of an instance that no longer exists. */
  public void forgetInstance(InstanceKey instance) {
    instances.remove(instance);
  }

  private static void ewma(AtomicLong cell, long sample, double alpha) {
    long prev;
    long next;
    do {
      prev = cell.get();
      next = prev < 0 ? sample : (long) (prev + alpha * (sample - prev));
    } while (!cell.compareAndSet(prev, next));
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
      }
    }
    return i;
  }

  private static final class Peer {
    final AtomicLong srtt = new AtomicLong(UNKNOWN);
    volatile boolean up = true;
  }

  private static final class Instance {
    final AtomicInteger flows = new AtomicInteger();
    final AtomicLong setupEwma = new AtomicLong(UNKNOWN);
  }
}
