package io.semnet.proxy.internal;

import io.semnet.core.address.Addresses;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-ServiceIP flow tallies for the metrics: new flows, active flows and bytes of client flows by
 * the virtual address they contacted and its policy. Bounded: the first {@code cap} addresses
 * seen get their own tally, every later one shares the tally labelled {@value #OTHER}, so the
 * number of series never passes {@code cap + 1}. A tally is looked up once per new flow (a map
 * read; allocation only the first time an address is seen) and kept in the flow.
 *
 * <p>Nothing here is written atomically on the data path. New and active flows are plain counts
 * changed only under the flow table's monitor (where flows are inserted and removed), published
 * with opaque stores. Bytes are counted per thread, in the {@link ThreadScratch#tallyBytes} slot of
 * the tally's {@link Tally#index} (one plain add per packet, written only by the owning thread),
 * and summed over the threads when read, like the translator's counters. Readers may see counts a
 * little behind, never torn ones.
 */
public final class ServiceTallies {
  /** Addresses tallied one by one (the translator's setting; not configurable yet), and the most a tally set may have. */
  public static final int DEFAULT_CAP = 64;
  /** The label of the tally shared by addresses beyond the cap. */
  public static final String OTHER = "other";

  private static final VarHandle CREATED;
  private static final VarHandle ACTIVE;

  static {
    try {
      MethodHandles.Lookup l = MethodHandles.lookup();
      CREATED = l.findVarHandle(Tally.class, "created", long.class);
      ACTIVE = l.findVarHandle(Tally.class, "active", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** One address's counts. */
  public static final class Tally {
    public final String serviceIp;
    public final String policy;
    /** This tally's slot in every thread's {@link ThreadScratch#tallyBytes}. */
    final int index;
    /** Written only under the flow table's monitor; read opaquely. */
    private long created;
    private long active;

    Tally(String serviceIp, String policy, int index) {
      this.serviceIp = serviceIp;
      this.policy = policy;
      this.index = index;
    }

    /** Client flows created for this address so far. */
    public long created() {
      return (long) CREATED.getOpaque(this);
    }

    /** Client flows for this address in the table now. */
    public long active() {
      return (long) ACTIVE.getOpaque(this);
    }

    /** A flow of this tally entered the table. Under the table's monitor. */
    void inserted() {
      CREATED.setOpaque(this, created + 1);
      ACTIVE.setOpaque(this, active + 1);
    }

    /** A flow of this tally left the table. Under the table's monitor. */
    void removed() {
      ACTIVE.setOpaque(this, active - 1);
    }
  }

  private final int cap;
  private final ThreadScratches scratches;
  private final ConcurrentHashMap<InetAddress, Tally> byAddress = new ConcurrentHashMap<>();
  private final Tally other;
  /** Tallies made so far (guarded by this). */
  private int made;

  /** Tallies of up to {@code cap} (at most {@link #DEFAULT_CAP}) addresses whose bytes the threads of {@code scratches} count. */
  ServiceTallies(int cap, ThreadScratches scratches) {
    if (cap < 0 || cap > DEFAULT_CAP) {
      throw new IllegalArgumentException("cap " + cap + " not in [0, " + DEFAULT_CAP + "]");
    }
    this.cap = cap;
    this.scratches = scratches;
    this.other = new Tally(OTHER, OTHER, cap);
  }

  /** The tally of {@code address} (contacted under {@code policy}, or null for an InstanceIP). */
  Tally of(InetAddress address, String policy) {
    Tally t = byAddress.get(address);
    return t != null ? t : make(address, policy);
  }

  private synchronized Tally make(InetAddress address, String policy) {
    Tally t = byAddress.get(address);
    if (t != null) {
      return t;
    }
    if (made >= cap) {
      return other;
    }
    t = new Tally(Addresses.format(address), policy == null ? "instance" : policy, made++);
    byAddress.put(address, t);
    return t;
  }

  /** IP bytes of {@code t}'s flows translated so far, both directions, summed over the threads. */
  public long bytes(Tally t) {
    long n = 0;
    for (ThreadScratch w : scratches.array()) {
      n += w.tallyBytes[t.index];
    }
    return n;
  }

  /** Every tally, the shared one last. */
  public List<Tally> all() {
    List<Tally> out = new ArrayList<>(byAddress.values());
    out.add(other);
    return out;
  }
}
