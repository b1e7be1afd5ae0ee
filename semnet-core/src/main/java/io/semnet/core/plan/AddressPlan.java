package io.semnet.core.plan;

import io.semnet.core.address.IpPrefix;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The platform's address plan, per address family: the platform range cut into per-node subnets
 * (handed to clusters in pools), and the range for ServiceIPs and InstanceIPs. The virtual range may
 * be carved out of the platform range (as the thesis put 172.30.0.0/16 inside 172.16.0.0/12); node
 * subnets then never come from it. Also the quarantine freed addresses wait out before reuse.
 *
 * <p>Defaults follow the thesis for IPv4 (172.16.0.0/12, /26 per node, 172.30.0.0/16 virtual, /20
 * pools of 64 node subnets per cluster) and add IPv6: fdec:5e00::/48 cut into /120 node subnets
 * (254 instances each), fdec:5e00:ffff::/112 virtual. Validated on build; immutable.
 */
public final class AddressPlan {
  /** Default time a released address or subnet waits before reuse; longer than any cache or DNS TTL. */
  public static final Duration DEFAULT_QUARANTINE = Duration.ofMinutes(15);

  private final Family ipv4;
  private final Family ipv6;
  private final Duration quarantine;

  private AddressPlan(Builder b) {
    this.ipv4 = b.ipv4;
    this.ipv6 = b.ipv6;
    this.quarantine = b.quarantine;
  }

  /** The thesis's IPv4 plan plus the default IPv6 plan (dual stack). */
  public static AddressPlan defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The IPv4 plan, or null if IPv4 is not used. */
  public Family ipv4() {
    return ipv4;
  }

  /** The IPv6 plan, or null if IPv6 is not used. */
  public Family ipv6() {
    return ipv6;
  }

  public Family family(boolean v4) {
    return v4 ? ipv4 : ipv6;
  }

  public Duration quarantine() {
    return quarantine;
  }

  /** Allocator of single ServiceIP/InstanceIP addresses for the family (network and broadcast excluded for IPv4). */
  public PrefixAllocator newVirtualAddressPool(boolean v4, Clock clock) {
    Family f = require(v4);
    IpPrefix r = f.virtualRange;
    List<IpPrefix> excluded = new ArrayList<>();
    excluded.add(IpPrefix.of(r.network(), r.addressBits()));
    if (v4 && r.size() > 2) {
      excluded.add(IpPrefix.of(r.addressAt(r.size() - 1), 32));
    }
    return new PrefixAllocator(r, r.addressBits(), excluded, quarantine, clock);
  }

  /** Allocator of cluster pools (each a range of node subnets) out of the platform range. */
  public PrefixAllocator newClusterPoolAllocator(boolean v4, Clock clock) {
    Family f = require(v4);
    return new PrefixAllocator(f.platformRange, f.clusterPoolLength, carved(f), quarantine, clock);
  }

  /** Allocator of node subnets out of {@code pool} (a cluster's pool, or the whole platform range). */
  public PrefixAllocator newNodeSubnetAllocator(IpPrefix pool, Clock clock) {
    Family f = require(pool.isIpv4());
    if (!f.platformRange.contains(pool)) {
      throw new IllegalArgumentException("pool " + pool + " is outside the platform range " + f.platformRange);
    }
    return new PrefixAllocator(pool, f.nodeSubnetLength, carved(f), quarantine, clock);
  }

  private static List<IpPrefix> carved(Family f) {
    return f.platformRange.overlaps(f.virtualRange) ? List.of(f.virtualRange) : List.of();
  }

  private Family require(boolean v4) {
    Family f = family(v4);
    if (f == null) {
      throw new IllegalStateException("the address plan has no " + (v4 ? "IPv4" : "IPv6") + " ranges");
    }
    return f;
  }

  @Override
  public String toString() {
    return "AddressPlan{ipv4=" + ipv4 + ", ipv6=" + ipv6 + ", quarantine=" + quarantine + "}";
  }

  /** The plan for one address family. Immutable. */
  public static final class Family {
    private final IpPrefix platformRange;
    private final int nodeSubnetLength;
    private final int clusterPoolLength;
    private final IpPrefix virtualRange;

    /**
     * @param platformRange where node subnets come from
     * @param nodeSubnetLength prefix length of one node's subnet
     * @param clusterPoolLength prefix length of the pool of node subnets the root hands a cluster
     * @param virtualRange where ServiceIPs and InstanceIPs come from
     */
    public Family(IpPrefix platformRange, int nodeSubnetLength, int clusterPoolLength, IpPrefix virtualRange) {
      this.platformRange = Objects.requireNonNull(platformRange, "platformRange");
      this.nodeSubnetLength = nodeSubnetLength;
      this.clusterPoolLength = clusterPoolLength;
      this.virtualRange = Objects.requireNonNull(virtualRange, "virtualRange");
      String fam = platformRange.isIpv4() ? "IPv4" : "IPv6";
      if (platformRange.isIpv4() != virtualRange.isIpv4()) {
        throw new IllegalArgumentException(fam + " plan mixes families: " + platformRange + " and " + virtualRange);
      }
      int bits = platformRange.addressBits();
      if (nodeSubnetLength <= platformRange.length() || nodeSubnetLength > bits - 2) {
        throw new IllegalArgumentException(fam + " node subnet /" + nodeSubnetLength
            + " must be longer than the platform range " + platformRange + " and hold at least 2 addresses");
      }
      if (clusterPoolLength < platformRange.length() || clusterPoolLength > nodeSubnetLength) {
        throw new IllegalArgumentException(fam + " cluster pool /" + clusterPoolLength + " must lie between the platform range /"
            + platformRange.length() + " and the node subnet /" + nodeSubnetLength);
      }
      if (virtualRange.overlaps(platformRange) && !platformRange.contains(virtualRange)) {
        throw new IllegalArgumentException(fam + " virtual range " + virtualRange + " partly overlaps the platform range "
            + platformRange + ": it must be inside it (carved out) or disjoint");
      }
      if (virtualRange.contains(platformRange)) {
        throw new IllegalArgumentException(fam + " virtual range " + virtualRange + " covers the whole platform range");
      }
      if (virtualRange.length() >= bits - 1) {
        throw new IllegalArgumentException(fam + " virtual range " + virtualRange + " is too small");
      }
    }

    public IpPrefix platformRange() {
      return platformRange;
    }

    public int nodeSubnetLength() {
      return nodeSubnetLength;
    }

    public int clusterPoolLength() {
      return clusterPoolLength;
    }

    public IpPrefix virtualRange() {
      return virtualRange;
    }

    /** Usable instance addresses in one node subnet (IPv4 excludes network, gateway and broadcast). */
    public long instancesPerNode() {
      long size = 1L << Math.min(62, platformRange.addressBits() - nodeSubnetLength);
      return platformRange.isIpv4() ? size - 3 : size - 2;
    }

    @Override
    public String toString() {
      return "{platform=" + platformRange + " node=/" + nodeSubnetLength + " pool=/" + clusterPoolLength
          + " virtual=" + virtualRange + "}";
    }
  }

  /** Builds an {@link AddressPlan}; starts from the defaults. */
  public static final class Builder {
    private Family ipv4 = new Family(IpPrefix.parse("172.16.0.0/12"), 26, 20, IpPrefix.parse("172.30.0.0/16"));
    private Family ipv6 = new Family(IpPrefix.parse("fdec:5e00::/48"), 120, 104, IpPrefix.parse("fdec:5e00:ffff::/112"));
    private Duration quarantine = DEFAULT_QUARANTINE;

    private Builder() {}

    /** The IPv4 plan, or null for IPv6 only. */
    public Builder ipv4(Family family) {
      this.ipv4 = family;
      return this;
    }

    /** The IPv6 plan, or null for IPv4 only. */
    public Builder ipv6(Family family) {
      this.ipv6 = family;
      return this;
    }

    public Builder quarantine(Duration quarantine) {
      this.quarantine = Objects.requireNonNull(quarantine, "quarantine");
      return this;
    }

    public AddressPlan build() {
      if (ipv4 == null && ipv6 == null) {
        throw new IllegalArgumentException("an address plan needs IPv4 or IPv6 ranges");
      }
      if (ipv4 != null && !ipv4.platformRange.isIpv4()) {
        throw new IllegalArgumentException("ipv4 family holds IPv6 ranges");
      }
      if (ipv6 != null && ipv6.platformRange.isIpv4()) {
        throw new IllegalArgumentException("ipv6 family holds IPv4 ranges");
      }
      if (quarantine.isNegative()) {
        throw new IllegalArgumentException("quarantine must not be negative");
      }
      return new AddressPlan(this);
    }
  }
}
