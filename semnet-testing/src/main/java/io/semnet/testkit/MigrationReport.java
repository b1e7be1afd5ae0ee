package io.semnet.testkit;

import io.semnet.core.record.InstanceKey;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The measured KPIs of one migration: the timestamps of its phases and what the data path did
 * meanwhile. Immutable; built by whoever drove the migration (an orchestrator, the LocalCluster
 * harness) from {@link MigrationWatch} (t_apply, pushes), the source node's hold statistics
 * (buffered, replayed, ...) and the traffic it observed (t_first, UDP and TCP outcome).
 *
 * <p>Timestamps are {@link System#nanoTime()} values of one host; a value not measured is
 * {@link #NOT_MEASURED} (counts, times) or null ({@link #tcpSurvived()}).
 */
public final class MigrationReport {
  /** Marks a count or time that was not measured. */
  public static final long NOT_MEASURED = -1;

  private final InstanceKey instance;
  private final boolean stateful;
  private final boolean buffering;
  private final long tFreeze;
  private final long tUp;
  private final long tPub;
  private final Map<String, Long> tApply;
  private final long tFirst;
  private final long controlMessages;
  private final long controlBytes;
  private final long udpSent;
  private final long udpLost;
  private final long udpDuplicated;
  private final long udpReordered;
  private final long buffered;
  private final long replayed;
  private final long overflowed;
  private final long droppedFrozen;
  private final long sentToOldAfterApply;
  private final long relayed;
  private final Boolean tcpSurvived;
  private final long tcpResets;

  private MigrationReport(Builder b) {
    this.instance = Objects.requireNonNull(b.instance, "instance");
    this.stateful = b.stateful;
    this.buffering = b.buffering;
    this.tFreeze = b.tFreeze;
    this.tUp = b.tUp;
    this.tPub = b.tPub;
    this.tApply = Map.copyOf(b.tApply);
    this.tFirst = b.tFirst;
    this.controlMessages = b.controlMessages;
    this.controlBytes = b.controlBytes;
    this.udpSent = b.udpSent;
    this.udpLost = b.udpLost;
    this.udpDuplicated = b.udpDuplicated;
    this.udpReordered = b.udpReordered;
    this.buffered = b.buffered;
    this.replayed = b.replayed;
    this.overflowed = b.overflowed;
    this.droppedFrozen = b.droppedFrozen;
    this.sentToOldAfterApply = b.sentToOldAfterApply;
    this.relayed = b.relayed;
    this.tcpSurvived = b.tcpSurvived;
    this.tcpResets = b.tcpResets;
  }

  public static Builder builder(InstanceKey instance) {
    return new Builder(instance);
  }

  public InstanceKey instance() {
    return instance;
  }

  /** True for a restore that kept the namespace IP (and the sockets), false for a cold move. */
  public boolean stateful() {
    return stateful;
  }

  /** Whether the source node held the instance's packets while it was frozen. */
  public boolean buffering() {
    return buffering;
  }

  /** When the instance was frozen at the source. */
  public long tFreeze() {
    return tFreeze;
  }

  /** When the instance ran at the destination and the {@code restored} phase was announced. */
  public long tUp() {
    return tUp;
  }

  /** When the root had stamped and published the new locator. */
  public long tPub() {
    return tPub;
  }

  /** When each interested node (by id) applied the new locator. */
  public Map<String, Long> tApply() {
    return new TreeMap<>(tApply);
  }

  /** When the first packet from the new place reached a sender (a reply seen by a client). */
  public long tFirst() {
    return tFirst;
  }

  /** The network's share of the downtime, t_first − t_up, in nanoseconds, or {@link #NOT_MEASURED}. */
  public long networkDowntimeNanos() {
    return tFirst == NOT_MEASURED || tUp == NOT_MEASURED ? NOT_MEASURED : tFirst - tUp;
  }

  /** The freeze as the instance's users felt it, t_first − t_freeze, or {@link #NOT_MEASURED}. */
  public long totalDowntimeNanos() {
    return tFirst == NOT_MEASURED || tFreeze == NOT_MEASURED ? NOT_MEASURED : tFirst - tFreeze;
  }

  /** Convergence: the latest t_apply − t_pub, or {@link #NOT_MEASURED} if no node applied it. */
  public long convergenceNanos() {
    return convergencePercentile(100);
  }

  /** A percentile (nearest rank, 1..100) over the nodes of t_apply − t_pub, or {@link #NOT_MEASURED}. */
  public long convergencePercentile(int percent) {
    if (percent < 1 || percent > 100) {
      throw new IllegalArgumentException("percent must be in 1..100, got " + percent);
    }
    if (tApply.isEmpty() || tPub == NOT_MEASURED) {
      return NOT_MEASURED;
    }
    long[] d = tApply.values().stream().mapToLong(t -> t - tPub).sorted().toArray();
    int rank = (int) Math.ceil(percent / 100.0 * d.length);
    return d[Math.max(0, rank - 1)];
  }

  /** Record pushes the interested nodes received for the migration. */
  public long controlMessages() {
    return controlMessages;
  }

  /** Bytes of those control messages, or {@link #NOT_MEASURED}. */
  public long controlBytes() {
    return controlBytes;
  }

  public long udpSent() {
    return udpSent;
  }

  /** UDP packets (or their echoes) that never arrived. */
  public long udpLost() {
    return udpLost;
  }

  public long udpDuplicated() {
    return udpDuplicated;
  }

  /** UDP packets that arrived after a packet sent later than them. */
  public long udpReordered() {
    return udpReordered;
  }

  /** Packets the source node held during the freeze. */
  public long buffered() {
    return buffered;
  }

  /** Held packets replayed, in order, to the new place. */
  public long replayed() {
    return replayed;
  }

  /** Packets dropped because the hold's FIFO was full. */
  public long overflowed() {
    return overflowed;
  }

  /** Packets dropped during the freeze because buffering was off. */
  public long droppedFrozen() {
    return droppedFrozen;
  }

  /** Packets that reached the old node after the release (senders not yet converged); forwarded. */
  public long sentToOldAfterApply() {
    return sentToOldAfterApply;
  }

  /** Replies relayed by the old node for flows that still came through it. */
  public long relayed() {
    return relayed;
  }

  /** Whether the TCP connection across the migration survived, or null if none was watched. */
  public Boolean tcpSurvived() {
    return tcpSurvived;
  }

  /** Connection resets seen by the TCP client. */
  public long tcpResets() {
    return tcpResets;
  }

  @Override
  public String toString() {
    long[] conv = {convergencePercentile(50), convergencePercentile(99), convergenceNanos()};
    return "MigrationReport{" + instance + (stateful ? " stateful" : " cold") + (buffering ? " buffered" : " unbuffered")
        + ", t_first-t_up " + ms(networkDowntimeNanos()) + " ms, t_first-t_freeze " + ms(totalDowntimeNanos())
        + " ms, convergence p50/p99/max " + Arrays.stream(conv).mapToObj(MigrationReport::ms).toList() + " ms over "
        + tApply.size() + " node(s), pushes " + controlMessages + ", udp sent/lost/dup/reordered " + udpSent + "/" + udpLost
        + "/" + udpDuplicated + "/" + udpReordered + ", buffered/replayed/overflowed/dropped " + buffered + "/" + replayed
        + "/" + overflowed + "/" + droppedFrozen + ", late/relayed " + sentToOldAfterApply + "/" + relayed
        + ", tcp survived " + tcpSurvived + " (resets " + tcpResets + ")}";
  }

  private static String ms(long nanos) {
    return nanos == NOT_MEASURED ? "n/a" : String.format("%.1f", nanos / 1e6);
  }

  /** Collects a {@link MigrationReport}; everything not set is {@link #NOT_MEASURED}. */
  public static final class Builder {
    private final InstanceKey instance;
    private boolean stateful;
    private boolean buffering;
    private long tFreeze = NOT_MEASURED;
    private long tUp = NOT_MEASURED;
    private long tPub = NOT_MEASURED;
    private Map<String, Long> tApply = Map.of();
    private long tFirst = NOT_MEASURED;
    private long controlMessages = NOT_MEASURED;
    private long controlBytes = NOT_MEASURED;
    private long udpSent = NOT_MEASURED;
    private long udpLost = NOT_MEASURED;
    private long udpDuplicated = NOT_MEASURED;
    private long udpReordered = NOT_MEASURED;
    private long buffered = NOT_MEASURED;
    private long replayed = NOT_MEASURED;
    private long overflowed = NOT_MEASURED;
    private long droppedFrozen = NOT_MEASURED;
    private long sentToOldAfterApply = NOT_MEASURED;
    private long relayed = NOT_MEASURED;
    private Boolean tcpSurvived;
    private long tcpResets = NOT_MEASURED;

    private Builder(InstanceKey instance) {
      this.instance = instance;
    }

    public Builder stateful(boolean v) {
      this.stateful = v;
      return this;
    }

    public Builder buffering(boolean v) {
      this.buffering = v;
      return this;
    }

    /** The phase timestamps ({@link System#nanoTime()}). */
    public Builder phases(long freeze, long up, long published) {
      this.tFreeze = freeze;
      this.tUp = up;
      this.tPub = published;
      return this;
    }

    /** t_apply per node and the pushes the nodes received, from a {@link MigrationWatch}. */
    public Builder watched(MigrationWatch watch) {
      this.tApply = watch.applied();
      this.controlMessages = watch.pushes();
      return this;
    }

    public Builder tFirst(long t) {
      this.tFirst = t;
      return this;
    }

    public Builder controlBytes(long bytes) {
      this.controlBytes = bytes;
      return this;
    }

    /** What a UDP stream across the migration saw. */
    public Builder udp(long sent, long lost, long duplicated, long reordered) {
      this.udpSent = sent;
      this.udpLost = lost;
      this.udpDuplicated = duplicated;
      this.udpReordered = reordered;
      return this;
    }

    /** What the source node did with the instance's packets. */
    public Builder hold(long buffered, long replayed, long overflowed, long droppedFrozen, long forwardedLate, long relayed) {
      this.buffered = buffered;
      this.replayed = replayed;
      this.overflowed = overflowed;
      this.droppedFrozen = droppedFrozen;
      this.sentToOldAfterApply = forwardedLate;
      this.relayed = relayed;
      return this;
    }

    public Builder tcp(boolean survived, long resets) {
      this.tcpSurvived = survived;
      this.tcpResets = resets;
      return this;
    }

    public MigrationReport build() {
      return new MigrationReport(this);
    }
  }
}
