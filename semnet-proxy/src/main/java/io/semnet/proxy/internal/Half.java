package io.semnet.proxy.internal;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.proxy.internal.packet.Checksums;

/**
 * One direction of a flow as the table stores it: the key the packet carries on arrival and the
 * rewrite to apply. The fields are written only by {@link #init}, before the half is published
 * through the table's volatile links (or a flow's volatile {@code out}/{@code in}), so a reader that
 * finds it there sees it completely. A half is re-initialised only when its flow is recycled, after
 * a grace period in which no reader can still hold it (see {@link Flows}).
 */
final class Half {
  static final int EGRESS = 0;
  static final int INGRESS = 1;
  /** Added to the direction for entries that map later fragments of a datagram to their flow. */
  static final int FRAGMENT = 2;

  private static final long K0;
  private static final long K1;
  private static final long K2;
  private static final long K3;

  static {
    java.security.SecureRandom r = new java.security.SecureRandom();
    K0 = r.nextLong();
    K1 = r.nextLong();
    K2 = r.nextLong();
    K3 = r.nextLong() | 1;
  }

  int dir;
  boolean v6;
  int proto;
  long sHi;
  long sLo;
  long dHi;
  long dLo;
  int sp;
  int dp;
  int hash;

  long nSrcHi;
  long nSrcLo;
  long nDstHi;
  long nDstLo;
  /** One's-complement difference of the address rewrite, for the IP and pseudo-header checksums. */
  int delta;
  /** The peer to send to, or null to deliver on this node. */
  WorkerEndpoint nextHop;
  Flow flow;
  /** Creation time (coarse millis), for fragment entries. */
  long created;

  volatile Half next;

  /** {@link #next} in plain mode, for linking a half that is not published yet. */
  static final java.lang.invoke.VarHandle NEXT;

  static {
    try {
      NEXT = java.lang.invoke.MethodHandles.lookup().findVarHandle(Half.class, "next", Half.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  Half(int dir, boolean v6, int proto, long sHi, long sLo, long dHi, long dLo, int sp, int dp,
      long nSrcHi, long nSrcLo, long nDstHi, long nDstLo, WorkerEndpoint nextHop, Flow flow, long created) {
    init(dir, v6, proto, sHi, sLo, dHi, dLo, sp, dp, nSrcHi, nSrcLo, nDstHi, nDstLo, nextHop, flow, created);
  }

  /** (Re)sets every field; only before the half is published (a new or recycled half). */
  Half init(int dir, boolean v6, int proto, long sHi, long sLo, long dHi, long dLo, int sp, int dp,
      long nSrcHi, long nSrcLo, long nDstHi, long nDstLo, WorkerEndpoint nextHop, Flow flow, long created) {
    this.dir = dir;
    this.v6 = v6;
    this.proto = proto;
    this.sHi = sHi;
    this.sLo = sLo;
    this.dHi = dHi;
    this.dLo = dLo;
    this.sp = sp;
    this.dp = dp;
    this.hash = hash(dir, v6, proto, sHi, sLo, dHi, dLo, sp, dp);
    this.nSrcHi = nSrcHi;
    this.nSrcLo = nSrcLo;
    this.nDstHi = nDstHi;
    this.nDstLo = nDstLo;
    // A recycled half keeps its flow, and usually its next hop: rewriting either would dirty a card
    // of an old-generation object (see Flow#init).
    if (this.nextHop != nextHop) {
      this.nextHop = nextHop;
    }
    if (this.flow != flow) {
      this.flow = flow;
    }
    this.created = created;
    this.delta = addressDelta(v6, sHi, sLo, dHi, dLo, nSrcHi, nSrcLo, nDstHi, nDstLo);
    return this;
  }

  /** A fragment-tracking entry: same rewrite, keyed by (addresses, protocol, identification). */
  Half fragmentEntry(long fragmentId, long now) {
    return new Half(dir + FRAGMENT, v6, proto, sHi, sLo, dHi, dLo, (int) (fragmentId >>> 16), (int) (fragmentId & 0xffff),
        nSrcHi, nSrcLo, nDstHi, nDstLo, nextHop, flow, now);
  }

  /** The same key with a different destination and next hop (re-pointing). */
  Half withTarget(long newDstHi, long newDstLo, WorkerEndpoint newNextHop) {
    return new Half(dir, v6, proto, sHi, sLo, dHi, dLo, sp, dp, nSrcHi, nSrcLo, newDstHi, newDstLo, newNextHop, flow, created);
  }

  boolean matches(int d, boolean six, int p, long a, long b, long c, long e, int s, int t) {
    return sLo == b && dLo == e && sp == s && dp == t && proto == p && dir == d && v6 == six && sHi == a && dHi == c;
  }

  /**
   * The table's hash of a key. Keyed with random per-process seeds, so which keys share a bucket
   * cannot be computed from outside (an attacker cannot aim flows or fragment entries at one chain).
   * Each word is mixed into the running state (multiply, rotate) before the next enters, so no
   * difference in one word can be cancelled by another independently of the seeds. Not a
   * cryptographic PRF (SipHash would not fit the per-packet budget); chains are short anyway.
   */
  static int hash(int dir, boolean v6, int proto, long sHi, long sLo, long dHi, long dLo, int sp, int dp) {
    long h = (sLo ^ K0) * 0x9E3779B97F4A7C15L;
    h = (Long.rotateLeft(h, 29) ^ dLo ^ K1) * 0xC2B2AE3D27D4EB4FL;
    h = (Long.rotateLeft(h, 29) ^ sHi ^ Long.rotateLeft(dHi, 17) ^ K2) * 0x165667B19E3779F9L;
    h = (Long.rotateLeft(h, 29) ^ ((long) sp << 32 | (long) dp << 16 | (long) proto << 2 | dir) ^ (v6 ? K3 : 0))
        * 0xD6E8FEB86659FD93L;
    h ^= h >>> 31;
    h *= 0x94D049BB133111EBL;
    return (int) (h ^ (h >>> 29));
  }

  static int addressDelta(boolean v6, long sHi, long sLo, long dHi, long dLo, long nsHi, long nsLo, long ndHi, long ndLo) {
    if (!v6) {
      return Checksums.add(Checksums.intDelta((int) sLo, (int) nsLo), Checksums.intDelta((int) dLo, (int) ndLo));
    }
    int d = Checksums.add(Checksums.longDelta(sHi, nsHi), Checksums.longDelta(sLo, nsLo));
    d = Checksums.add(d, Checksums.longDelta(dHi, ndHi));
    return Checksums.add(d, Checksums.longDelta(dLo, ndLo));
  }
}
