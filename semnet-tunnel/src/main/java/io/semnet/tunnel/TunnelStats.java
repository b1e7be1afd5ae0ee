package io.semnet.tunnel;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A snapshot of a tunnel's counters. Immutable.
 *
 * @param drops dropped datagrams/packets per reason (every reason present, zero if none)
 * @param receiveBufferDrops datagrams the kernel dropped because the socket's receive buffer was
 *     full (the socket's {@code drops} in /proc/net/udp[6]), or -1 if unreadable
 * @param linksOpened links created since start
 * @param linksEvicted links closed to stay within the link limit (least recently used)
 * @param linksIdleClosed links closed by the idle sweep
 * @param segmentedSends sends that carried a run of several datagrams to one peer with UDP GSO
 * @param directSends lone datagrams the sending thread wrote to the socket itself (nothing earlier
 *     was still queued), sparing the hand-over to the event loop
 * @param links per-link counters of the links open now
 */
public record TunnelStats(
    Map<DropReason, Long> drops,
    long receiveBufferDrops,
    long linksOpened,
    long linksEvicted,
    long linksIdleClosed,
    long segmentedSends,
    long directSends,
    List<LinkStats> links) {

  public TunnelStats {
    drops = Map.copyOf(new EnumMap<>(drops));
    links = List.copyOf(links);
  }

  /** Count for one reason. */
  public long drops(DropReason reason) {
    return drops.getOrDefault(reason, 0L);
  }

  /** Sum over all reasons. */
  public long totalDrops() {
    return drops.values().stream().mapToLong(Long::longValue).sum();
  }

  /** The link to {@code nodeId}, or null. */
  public LinkStats link(String nodeId) {
    for (LinkStats l : links) {
      if (l.peer().nodeId().equals(nodeId)) {
        return l;
      }
    }
    return null;
  }
}
