package io.semnet.proxy.internal;

import io.semnet.core.address.Addresses;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Per-ServiceIP flow tallies for the metrics: new flows, active flows and bytes of client flows by
 * the virtual address they contacted and its policy. Bounded: the first {@code cap} addresses
 * seen get their own tally, every later one shares the tally labelled {@value #OTHER}, so the
 * number of series never passes {@code cap + 1}. A tally is looked up once per new flow (a map
 * read; allocation only the first time an address is seen) and kept in the flow, so counting a
 * packet's bytes is one add.
 */
public final class ServiceTallies {
  /** Addresses tallied one by one (the translator's setting; not configurable yet). */
  public static final int DEFAULT_CAP = 64;
  /** The label of the tally shared by addresses beyond the cap. */
  public static final String OTHER = "other";

  /** One address's counts. */
  public static final class Tally {
    public final String serviceIp;
    public final String policy;
    public final LongAdder created = new LongAdder();
    public final AtomicLong active = new AtomicLong();
    public final LongAdder bytes = new LongAdder();

    Tally(String serviceIp, String policy) {
      this.serviceIp = serviceIp;
      this.policy = policy;
    }
  }

  private final int cap;
  private final ConcurrentHashMap<InetAddress, Tally> byAddress = new ConcurrentHashMap<>();
  private final Tally other = new Tally(OTHER, OTHER);

  ServiceTallies(int cap) {
    this.cap = cap;
  }

  /** The tally of {@code address} (contacted under {@code policy}, or null for an InstanceIP). */
  Tally of(InetAddress address, String policy) {
    Tally t = byAddress.get(address);
    if (t != null) {
      return t;
    }
    if (byAddress.size() >= cap) {
      return other;
    }
    return byAddress.computeIfAbsent(address, a -> new Tally(Addresses.format(a), policy == null ? "instance" : policy));
  }

  /** Every tally, the shared one last. */
  public List<Tally> all() {
    List<Tally> out = new ArrayList<>(byAddress.values());
    out.add(other);
    return out;
  }
}
