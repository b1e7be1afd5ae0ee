package io.semnet.proxy.internal;

import io.semnet.core.record.InstanceKey;
import java.net.InetAddress;

/**
 * A conversation through this node: its egress half (packets read from the TUN) and its ingress
 * half (packets arriving from a peer or looped back locally). On the client's node the flow
 * records the chosen instance and the virtual address contacted; on the server's node it is
 * learned from the first packet and records nothing to resolve.
 */
final class Flow {
  static final int F_SYNACK = 1;
  static final int F_FIN_OUT = 2;
  static final int F_FIN_IN = 4;
  static final int F_RST = 8;
  /** A UDP client flow that had a reply (only such flows count silence as a failure). */
  static final int F_REPLIED = 16;

  final boolean client;
  final int proto;
  /** Chosen instance (client side), else null. */
  final InstanceKey instance;
  /** The ServiceIP or InstanceIP the client contacted (client side), else null. */
  final InetAddress virtualDst;
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
  final long created;
  /** Bytes of IP packets translated out (from the local instance) and in; racy by design (approximate under contention). */
  long bytesOut;
  long bytesIn;
  /** The per-ServiceIP tally of a client flow (null for learned flows). */
  ServiceTallies.Tally tally;
  /** Neighbours among the client flows to the same remote instance ({@link FlowsByTarget}; guarded by the table). */
  Flow prevByTarget;
  Flow nextByTarget;

  Flow(boolean client, int proto, InstanceKey instance, InetAddress virtualDst, long now) {
    this.client = client;
    this.proto = proto;
    this.instance = instance;
    this.virtualDst = virtualDst;
    this.lastSeen = now;
    this.created = now;
  }

  synchronized void addFlags(int f) {
    flags |= f;
  }
}
