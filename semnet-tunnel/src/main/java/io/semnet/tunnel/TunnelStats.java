package io.semnet.tunnel;

import io.semnet.core.stats.Stat;
import io.semnet.core.stats.StatsSource;
import io.semnet.core.stats.StatsVisitor;
import io.semnet.tunnel.internal.conn.BatchedUdpSocket;
import io.semnet.tunnel.internal.link.Drops;
import io.semnet.tunnel.internal.link.Link;
import io.semnet.tunnel.internal.link.LinkTable;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A snapshot of a tunnel's counters. Immutable. As a {@link StatsSource} it reports
 * {@code semnet.tunnel.drops{reason}} and the link counters, and per peer (label {@code peer}, the
 * node id; bounded by the tunnel's link limit) RTT, bytes, packets, drops, handshakes, key age and
 * whether the peer answers probes.
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
    List<LinkStats> links) implements StatsSource {

  private static final Stat DROPS = Stat.counter("semnet.tunnel.drops", "Datagrams and packets the tunnel dropped, by reason", "reason");
  private static final Stat RECEIVE_BUFFER_DROPS = Stat.counter("semnet.tunnel.receive.buffer.drops",
      "Datagrams the kernel dropped for want of receive-buffer space");
  private static final Stat LINKS = Stat.counter("semnet.tunnel.links", "Links opened, evicted (link limit) and closed idle", "event");
  private static final Stat OPEN_LINKS = Stat.gauge("semnet.tunnel.open.links", "Links open now");
  private static final Stat RTT = Stat.gauge("semnet.peer.rtt.seconds", "Last probe round trip to the peer", "peer");
  private static final Stat UP = Stat.gauge("semnet.peer.up", "1 while the peer answers probes, else 0", "peer");
  private static final Stat BYTES = Stat.counter("semnet.peer.bytes", "Inner bytes in data datagrams, by peer and direction",
      "peer", "direction");
  private static final Stat PACKETS = Stat.counter("semnet.peer.packets", "Datagrams sent and authenticated datagrams received",
      "peer", "direction");
  private static final Stat PEER_DROPS = Stat.counter("semnet.peer.drops",
      "Packets to or from the peer dropped (queue full, authentication or replay failure)", "peer");
  private static final Stat HANDSHAKES = Stat.counter("semnet.peer.handshakes", "Handshakes completed with the peer", "peer");
  private static final Stat KEY_AGE = Stat.gauge("semnet.peer.key.age.seconds", "Age of the current session key", "peer");
  private static final DropReason[] REASONS = DropReason.values();
  private static final String[] REASON_LABELS = new String[REASONS.length];

  static {
    for (DropReason r : REASONS) {
      REASON_LABELS[r.ordinal()] = r.name().toLowerCase(Locale.ROOT);
    }
  }

  public TunnelStats {
    drops = Map.copyOf(new EnumMap<>(drops));
    links = List.copyOf(links);
  }

  static TunnelStats of(Drops drops, LinkTable lt, BatchedUdpSocket<Link> s) {
    List<LinkStats> ls = new ArrayList<>();
    if (lt != null) {
      for (Link l : lt.all()) {
        ls.add(l.stats());
      }
    }
    return new TunnelStats(drops.snapshot(), s == null ? -1 : s.receiveBufferDrops(), lt == null ? 0 : lt.opened(),
        lt == null ? 0 : lt.evicted(), lt == null ? 0 : lt.idleClosed(), s == null ? 0 : s.out().segmentedSends(),
        s == null ? 0 : s.out().directSends(), ls);
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

  @Override
  public void reportTo(StatsVisitor v) {
    for (DropReason r : REASONS) {
      v.value(DROPS, REASON_LABELS[r.ordinal()], drops(r));
    }
    if (receiveBufferDrops >= 0) {
      v.value(RECEIVE_BUFFER_DROPS, receiveBufferDrops);
    }
    v.value(LINKS, "opened", linksOpened);
    v.value(LINKS, "evicted", linksEvicted);
    v.value(LINKS, "idle_closed", linksIdleClosed);
    v.value(OPEN_LINKS, links.size());
    for (LinkStats l : links) {
      String peer = l.peer().nodeId();
      if (l.lastRttNanos() >= 0) {
        v.value(RTT, peer, l.lastRttNanos() / 1e9);
      }
      v.value(UP, peer, l.up() ? 1 : 0);
      v.value(BYTES, peer, "sent", l.txBytes());
      v.value(BYTES, peer, "received", l.rxBytes());
      v.value(PACKETS, peer, "sent", l.txPackets());
      v.value(PACKETS, peer, "received", l.rxPackets());
      v.value(PEER_DROPS, peer, l.drops());
      v.value(HANDSHAKES, peer, Math.max(0, l.keyId() + 1));
      if (l.keyAgeNanos() >= 0) {
        v.value(KEY_AGE, peer, l.keyAgeNanos() / 1e9);
      }
    }
  }
}
