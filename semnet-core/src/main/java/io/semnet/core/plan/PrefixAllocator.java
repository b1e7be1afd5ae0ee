package io.semnet.core.plan;

import io.semnet.core.address.IpPrefix;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Hands out equal-sized sub-prefixes of a range: node subnets out of the platform range, pools of
 * node subnets for clusters, or single addresses ({@code /32}, {@code /128}) for ServiceIPs and
 * InstanceIPs. Never hands out a prefix twice, never one overlapping an excluded prefix, and a
 * released prefix waits out the quarantine before it is handed out again, so caches, DNS answers
 * and flows still pointing at it expire first.
 *
 * <p>Every failing call throws {@link AllocationException} and changes nothing. Thread-safe.
 */
public final class PrefixAllocator {
  private final IpPrefix range;
  private final int subLength;
  private final List<IpPrefix> excluded;
  private final Duration quarantine;
  private final Clock clock;
  private final long count;
  private final Set<Long> allocated = new HashSet<>();
  private final Map<Long, Instant> quarantinedUntil = new HashMap<>();
  private long cursor;

  /**
   * @param range the range to cut
   * @param subLength length of each handed-out prefix ({@code 32}/{@code 128} for single addresses)
   * @param excluded prefixes never to hand out any part of (e.g. the ServiceIP range)
   * @param quarantine how long a released prefix waits before reuse
   */
  public PrefixAllocator(IpPrefix range, int subLength, List<IpPrefix> excluded, Duration quarantine, Clock clock) {
    this.range = Objects.requireNonNull(range, "range");
    if (subLength < range.length() || subLength > range.addressBits()) {
      throw new IllegalArgumentException("cannot cut /" + subLength + " prefixes out of " + range);
    }
    this.subLength = subLength;
    for (IpPrefix p : excluded) {
      if (p.isIpv4() != range.isIpv4()) {
        throw new IllegalArgumentException("excluded " + p + " is not of the family of " + range);
      }
    }
    this.excluded = List.copyOf(excluded);
    if (quarantine.isNegative()) {
      throw new IllegalArgumentException("quarantine must not be negative");
    }
    this.quarantine = quarantine;
    this.clock = Objects.requireNonNull(clock, "clock");
    this.count = range.subnetCount(subLength);
  }

  public IpPrefix range() {
    return range;
  }

  public int subLength() {
    return subLength;
  }

  /** Allocates any free prefix. */
  public synchronized IpPrefix allocate() {
    Instant now = clock.instant();
    long tried = 0;
    long idx = cursor;
    while (tried < count) {
      if (idx >= count) {
        idx = 0;
      }
      IpPrefix candidate = range.subnet(idx, subLength);
      IpPrefix blocker = excludedOverlapping(candidate);
      if (blocker != null) {
        if (blocker.contains(range)) {
          break;
        }
        // Skip the whole excluded prefix at once: it may hold thousands of candidates.
        long skip = Math.max(1, blocker.length() >= subLength ? 1 : blocker.size() / sizeOf(subLength));
        long next = blocker.length() >= subLength ? idx + 1 : indexOf(blocker) + skip;
        tried += next - idx;
        idx = next;
        continue;
      }
      if (isFree(idx, now)) {
        take(idx);
        cursor = idx + 1;
        return candidate;
      }
      idx++;
      tried++;
    }
    throw new AllocationException("no free /" + subLength + " left in " + range
        + " (" + allocated.size() + " allocated, " + quarantinedUntil.size() + " in quarantine)");
  }

  /** Allocates exactly {@code prefix} (a pinned address or subnet). */
  public synchronized IpPrefix allocate(IpPrefix prefix) {
    long idx = checkInside(prefix);
    if (!isFree(idx, clock.instant())) {
      throw new AllocationException(prefix + (allocated.contains(idx) ? " is already allocated" : " is in quarantine after release"));
    }
    take(idx);
    return prefix;
  }

  /** Allocates exactly the single address {@code address} (sub-length must be a full address). */
  public IpPrefix allocateAddress(InetAddress address) {
    return allocate(IpPrefix.of(address, subLength));
  }

  /** Checks, without allocating, whether {@code prefix} could be allocated now; returns the reason if not, or null. */
  public synchronized String whyNotAvailable(IpPrefix prefix) {
    try {
      long idx = checkInside(prefix);
      if (allocated.contains(idx)) {
        return prefix + " is already allocated";
      }
      if (!isFree(idx, clock.instant())) {
        return prefix + " is in quarantine after release";
      }
      return null;
    } catch (AllocationException e) {
      return e.getMessage();
    }
  }

  /**
   * Releases a prefix into quarantine.
   *
   * @throws AllocationException if it was not allocated
   */
  public synchronized void release(IpPrefix prefix) {
    long idx = checkInside(prefix);
    if (!allocated.remove(idx)) {
      throw new AllocationException(prefix + " is not allocated");
    }
    if (!quarantine.isZero()) {
      quarantinedUntil.put(idx, clock.instant().plus(quarantine));
    }
  }

  /** Undoes an allocation made in the same operation that then failed: no quarantine, nothing was published. */
  synchronized void rollback(IpPrefix prefix) {
    allocated.remove(checkInside(prefix));
  }

  public synchronized boolean isAllocated(IpPrefix prefix) {
    return prefix.length() == subLength && range.contains(prefix) && allocated.contains(indexOf(prefix));
  }

  /** All allocated prefixes (a copy). */
  public synchronized List<IpPrefix> allocated() {
    List<IpPrefix> out = new ArrayList<>(allocated.size());
    for (long idx : allocated) {
      out.add(range.subnet(idx, subLength));
    }
    Collections.sort(out);
    return out;
  }

  /** Prefixes in quarantine with the instant each becomes reusable (a copy). */
  public synchronized Map<IpPrefix, Instant> quarantined() {
    Map<IpPrefix, Instant> out = new HashMap<>();
    Instant now = clock.instant();
    quarantinedUntil.forEach((idx, until) -> {
      if (until.isAfter(now)) {
        out.put(range.subnet(idx, subLength), until);
      }
    });
    return out;
  }

  /**
   * Restores state saved from {@link #allocated()} and {@link #quarantined()} (after a restart).
   * Must be called before any allocation.
   */
  public synchronized void restore(List<IpPrefix> allocatedPrefixes, Map<IpPrefix, Instant> quarantinedPrefixes) {
    if (!allocated.isEmpty() || !quarantinedUntil.isEmpty()) {
      throw new IllegalStateException("restore into a fresh allocator only");
    }
    for (IpPrefix p : allocatedPrefixes) {
      allocated.add(checkInside(p));
    }
    quarantinedPrefixes.forEach((p, until) -> quarantinedUntil.put(checkInside(p), until));
  }

  private boolean isFree(long idx, Instant now) {
    if (allocated.contains(idx)) {
      return false;
    }
    Instant until = quarantinedUntil.get(idx);
    if (until == null) {
      return true;
    }
    if (!until.isAfter(now)) {
      quarantinedUntil.remove(idx);
      return true;
    }
    return false;
  }

  private void take(long idx) {
    allocated.add(idx);
    quarantinedUntil.remove(idx);
  }

  private long checkInside(IpPrefix prefix) {
    if (prefix.length() != subLength) {
      throw new AllocationException(prefix + " is not a /" + subLength);
    }
    if (!range.contains(prefix)) {
      throw new AllocationException(prefix + " is outside " + range);
    }
    IpPrefix blocker = excludedOverlapping(prefix);
    if (blocker != null) {
      throw new AllocationException(prefix + " overlaps reserved " + blocker);
    }
    return indexOf(prefix);
  }

  private IpPrefix excludedOverlapping(IpPrefix p) {
    for (IpPrefix e : excluded) {
      if (e.overlaps(p)) {
        return e;
      }
    }
    return null;
  }

  private long indexOf(IpPrefix p) {
    long offset = range.offsetOf(p.network());
    return offset / sizeOf(subLength);
  }

  private long sizeOf(int len) {
    int hostBits = range.addressBits() - len;
    return hostBits >= 63 ? Long.MAX_VALUE : 1L << hostBits;
  }

  @Override
  public synchronized String toString() {
    return "PrefixAllocator{" + range + " /" + subLength + ", allocated=" + allocated.size()
        + ", quarantined=" + quarantinedUntil.size() + ", excluded=" + excluded + "}";
  }
}
