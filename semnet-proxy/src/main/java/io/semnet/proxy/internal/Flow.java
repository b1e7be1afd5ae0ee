package io.semnet.proxy.internal;

import io.semnet.core.record.InstanceKey;
import java.net.InetAddress;

/**
 * A conversation through this node: its egress half (packets read from the TUN) and its ingress
 * half (packets arriving from a peer or looped back locally). On the client's node the flow
 * records the chosen instance and the virtual address contacted; on the server's node it is
 * learned from the first packet and records nothing to resolve.
 *
 * <p>Flow objects, with their two halves, are recycled (see {@link Flows}): once removed and past a
 * grace period in which every thread that could still hold it has passed a quiescent point, a
 * flow is handed to a new conversation. {@link #gen} moves when that happens, so code that keeps a
 * flow beyond one call (the control plane's re-resolution) keeps its generation too and acts on
 * it only while the generation is unchanged.
 */
final class Flow {
  static final int F_SYNACK = 1;
  static final int F_FIN_OUT = 2;
  static final int F_FIN_IN = 4;
  static final int F_RST = 8;
  /** A UDP client flow that had a reply (only such flows count silence as a failure). */
  static final int F_REPLIED = 16;

  /* Written only by init, before the flow is published through the table's volatile links. */
  boolean client;
  int proto;
  /** Chosen instance (client side), else null. */
  InstanceKey instance;
  /** The ServiceIP or InstanceIP the client contacted (client side), else null. */
  InetAddress virtualDst;
  volatile Half out;
  volatile Half in;
  /** Coarse millis of the last packet; racy by design (a stale read only delays expiry). */
  long lastSeen;
  volatile int flags;
  /** System.nanoTime of the SYN that opened the flow, 0 once the SYN-ACK was timed. */
  volatile long synNanos;
  volatile boolean removed;
  /** The chosen instance's health cell (client side), else null; set before the flow is published. */
  Health.Cell health;
  /** Fragment-tracking entries of this flow in the table (guarded by the table). */
  int fragments;
  /** Creation time (the flows' coarse millis). */
  long created;
  /** Bytes of IP packets translated out (from the local instance) and in; racy by design (approximate under contention). */
  long bytesOut;
  long bytesIn;
  /** The per-ServiceIP tally of a client flow (null for learned flows). */
  ServiceTallies.Tally tally;
  /** Neighbours among the client flows to the same remote instance ({@link FlowsByTarget}; guarded by the table). */
  Flow prevByTarget;
  Flow nextByTarget;
  /**
   * Times this object was recycled for another conversation. Written under the table's lock; read
   * there, or by code that reached the flow under it (a racy read elsewhere is only a hint).
   */
  int gen;

  /** A flow object for the pool, to be {@link #init initialised} before use. */
  Flow() {}

  /** A flow without tally or health cell (tests). */
  Flow(boolean client, int proto, InstanceKey instance, InetAddress virtualDst, long now) {
    init(client, proto, instance, virtualDst, now, null, null);
  }

  /**
   * (Re)starts this object as a new conversation ({@code tally} and {@code health} only for a
   * client flow, else null); the halves are set by the caller. Before publication only.
   *
   * <p>A recycled flow has usually lived long enough to be in the old generation, where every
   * reference store that changes a field dirties a card for the collector to refine: fields that
   * keep their value (the same instance, address, tally or cell as the conversation before, the
   * usual case) are therefore not written again.
   */
  Flow init(boolean client, int proto, InstanceKey instance, InetAddress virtualDst, long now,
      ServiceTallies.Tally tally, Health.Cell health) {
    return init(client, proto, instance, virtualDst, now, tally, health, 0);
  }

  /**
   * {@link #init} with the {@link #synNanos} of the SYN that opens the flow. The volatile fields are
   * written in plain mode: the flow is not published yet, and its publication (a volatile link in
   * the table) orders these writes before any reader's access, so a fence per field would buy nothing.
   */
  Flow init(boolean client, int proto, InstanceKey instance, InetAddress virtualDst, long now,
      ServiceTallies.Tally tally, Health.Cell health, long synNanos) {
    this.client = client;
    this.proto = proto;
    if (this.instance != instance) {
      this.instance = instance;
    }
    if (this.virtualDst != virtualDst) {
      this.virtualDst = virtualDst;
    }
    if (this.tally != tally) {
      this.tally = tally;
    }
    if (this.health != health) {
      this.health = health;
    }
    this.lastSeen = now;
    this.created = now;
    FLAGS.set(this, 0);
    SYN_NANOS.set(this, synNanos);
    this.fragments = 0;
    this.bytesOut = 0;
    this.bytesIn = 0;
    this.prevByTarget = null;
    this.nextByTarget = null;
    REMOVED.set(this, false);
    return this;
  }

  private static final java.lang.invoke.VarHandle FLAGS;
  private static final java.lang.invoke.VarHandle SYN_NANOS;
  private static final java.lang.invoke.VarHandle REMOVED;

  static {
    try {
      java.lang.invoke.MethodHandles.Lookup l = java.lang.invoke.MethodHandles.lookup();
      FLAGS = l.findVarHandle(Flow.class, "flags", int.class);
      SYN_NANOS = l.findVarHandle(Flow.class, "synNanos", long.class);
      REMOVED = l.findVarHandle(Flow.class, "removed", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** Marks the flow removed with a release store (a caller that needs more fences after it). */
  void markRemoved() {
    REMOVED.setRelease(this, true);
  }

  synchronized void addFlags(int f) {
    flags |= f;
  }
}
