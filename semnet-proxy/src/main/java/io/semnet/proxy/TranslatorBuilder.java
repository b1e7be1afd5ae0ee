package io.semnet.proxy;

import io.semnet.core.node.Tunnel;
import io.semnet.proxy.internal.HealthConfig;
import io.semnet.proxy.internal.TranslatorConfig;
import java.time.Duration;
import java.util.Objects;

/**
 * Configures a {@link SemnetTranslator} ({@link SemnetTranslator#builder()}). Defaults suit a small
 * edge node. Setters validate at once and throw {@link IllegalArgumentException} (or
 * {@link NullPointerException}) on a bad value; {@link #build()} may be called more than once and
 * every translator gets its own immutable copy of the settings. Not thread-safe.
 */
/** Configures a {@link SemnetTranslator}. Defaults suit a small edge node. */
public final class TranslatorBuilder {
  private int maxFlows = 65_536;
  private int parkedPerFlow = 8;
  private int maxParked = 4096;
  private Duration parkTimeout = Duration.ofSeconds(5);
  private Duration tcpEstablished = Duration.ofHours(2);
  private Duration tcpTransitory = Duration.ofSeconds(60);
  private Duration tcpClosing = Duration.ofSeconds(10);
  private Duration udp = Duration.ofSeconds(60);
  private Duration icmp = Duration.ofSeconds(30);
  private Duration fragment = Duration.ofSeconds(30);
  private Duration sweepInterval = Duration.ofSeconds(1);
  private int underlayMtu = 1500;
  private int tunnelOverhead = -1;
  private boolean ipv6Underlay;
  private boolean clampMss = true;
  private int holdPackets = 4096;
  private int holdBytes = 4 << 20;
  private boolean holdBuffering = true;
  private Duration holdLinger = Duration.ofSeconds(30);
  private int maxFragments = 4096;
  private int fragmentsPerFlow = 64;
  private int icmpErrorsPerSecond = 1000;
  private Duration synTimeout = Duration.ofSeconds(1);
  private Duration udpSilence = Duration.ofSeconds(5);
  private int failuresToEject = 1;
  private Duration baseEjection = Duration.ofSeconds(1);
  private Duration maxEjection = Duration.ofSeconds(30);
  private int maxEjectedPercent = 50;

  TranslatorBuilder() {}

  /** Most flows kept; past it the least recently used of a sample is evicted. */
  public TranslatorBuilder maxFlows(int n) {
    this.maxFlows = positive(n, "maxFlows");
    return this;
  }

  /** Packets parked per new flow while its route resolves; more are dropped. */
  public TranslatorBuilder parkedPacketsPerFlow(int n) {
    this.parkedPerFlow = positive(n, "parkedPacketsPerFlow");
    return this;
  }

  /** Packets parked over all flows. */
  public TranslatorBuilder maxParkedPackets(int n) {
    this.maxParked = positive(n, "maxParkedPackets");
    return this;
  }

  /** How long parked packets wait for a resolution before being dropped. */
  public TranslatorBuilder parkTimeout(Duration d) {
    this.parkTimeout = Objects.requireNonNull(d);
    return this;
  }

  /** Idle timeout of a TCP flow that saw its handshake complete. */
  public TranslatorBuilder tcpEstablishedTimeout(Duration d) {
    this.tcpEstablished = Objects.requireNonNull(d);
    return this;
  }

  /** Idle timeout of a TCP flow whose handshake has not completed. */
  public TranslatorBuilder tcpTransitoryTimeout(Duration d) {
    this.tcpTransitory = Objects.requireNonNull(d);
    return this;
  }

  /** Idle timeout after a RST or FINs in both directions. */
  public TranslatorBuilder tcpClosingTimeout(Duration d) {
    this.tcpClosing = Objects.requireNonNull(d);
    return this;
  }

  /** Idle timeout of a UDP flow. */
  public TranslatorBuilder udpTimeout(Duration d) {
    this.udp = Objects.requireNonNull(d);
    return this;
  }

  /** Idle timeout of an ICMP (echo) flow. */
  public TranslatorBuilder icmpTimeout(Duration d) {
    this.icmp = Objects.requireNonNull(d);
    return this;
  }

  /** How long a first fragment's identification maps later fragments to its flow. */
  public TranslatorBuilder fragmentTimeout(Duration d) {
    this.fragment = Objects.requireNonNull(d);
    return this;
  }

  /** How often idle flows are looked for. */
  public TranslatorBuilder sweepInterval(Duration d) {
    this.sweepInterval = Objects.requireNonNull(d);
    return this;
  }

  /** MTU of the underlay the tunnel runs over (default 1500). */
  public TranslatorBuilder underlayMtu(int mtu) {
    this.underlayMtu = positive(mtu, "underlayMtu");
    return this;
  }

  /** Bytes the tunnel adds; default: ask {@link Tunnel#overheadBytes} at start (0 without a tunnel). */
  public TranslatorBuilder tunnelOverhead(int bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("tunnelOverhead must be >= 0");
    }
    this.tunnelOverhead = bytes;
    return this;
  }

  /** Whether the underlay is IPv6 (larger outer header). */
  public TranslatorBuilder ipv6Underlay(boolean v6) {
    this.ipv6Underlay = v6;
    return this;
  }

  /** Clamp the MSS of SYNs sent through the tunnel (default true). */
  public TranslatorBuilder clampMss(boolean clamp) {
    this.clampMss = clamp;
    return this;
  }

  /**
   * Caps of the FIFO that holds a frozen (migrating) instance's packets (default 4096 packets,
   * 4 MiB); the bytes are one direct buffer allocated at the first freeze and reused. Packets past
   * either cap are dropped and counted ({@link Counter#DROP_MIGRATION_OVERFLOW}).
   */
  public TranslatorBuilder migrationBuffer(int packets, int bytes) {
    this.holdPackets = positive(packets, "packets");
    if (bytes < 2 + 1280) {
      throw new IllegalArgumentException("bytes must hold at least one packet, got " + bytes);
    }
    this.holdBytes = bytes;
    return this;
  }

  /**
   * Whether a frozen instance's packets are held (default true). Off, they are dropped and counted
   * ({@link Counter#DROP_MIGRATION_FROZEN}) until the release; late packets are still forwarded.
   */
  public TranslatorBuilder migrationBuffering(boolean on) {
    this.holdBuffering = on;
    return this;
  }

  /**
   * How long after the last late packet a migrated instance's old namespace IP is still forwarded
   * to its new place (default 30 s); afterwards stragglers get route-not-found.
   */
  public TranslatorBuilder migrationLinger(Duration d) {
    this.holdLinger = Objects.requireNonNull(d);
    return this;
  }

  /**
   * Fragmented datagrams tracked at once over all flows (default 4096) and per flow (default 64):
   * a datagram past either cap is dropped and counted ({@code DROP_FRAGMENT_LIMIT}). An entry goes
   * when the datagram's last fragment passed or after the fragment timeout.
   */
  public TranslatorBuilder fragmentLimits(int total, int perFlow) {
    this.maxFragments = positive(total, "maxFragments");
    this.fragmentsPerFlow = positive(perFlow, "fragmentsPerFlow");
    return this;
  }

  /** ICMP errors this node generates per second (and as a burst), over all senders (default 1000). */
  public TranslatorBuilder icmpErrorsPerSecond(int n) {
    this.icmpErrorsPerSecond = positive(n, "icmpErrorsPerSecond");
    return this;
  }

  /**
   * Passive health checks (see {@link Counter#HEALTH_FAILURES}): a TCP SYN of a new flow without
   * SYN-ACK for {@code synTimeout} (default 1 s) is a failure of the chosen instance, and so is a
   * UDP flow that had replies and kept sending for {@code udpSilence} (default 5 s) without one;
   * ICMP destination unreachable and route-not-found count too. UDP flows that never had a reply
   * never count.
   */
  public TranslatorBuilder passiveHealth(Duration synTimeout, Duration udpSilence) {
    this.synTimeout = positive(synTimeout, "synTimeout");
    this.udpSilence = positive(udpSilence, "udpSilence");
    return this;
  }

  /**
   * Ejection from new-flow selection after {@code failures} failures in a row (default 1), for
   * {@code base} (default 1 s) doubled per ejection in a row up to {@code max} (default 30 s), while
   * at most {@code maxEjectedPercent} of a service's instances (default 50, rounded down; 0 turns
   * ejection off) are ejected at once. Established flows are never moved.
   */
  public TranslatorBuilder ejection(int failures, Duration base, Duration max, int maxEjectedPercent) {
    if (maxEjectedPercent < 0 || maxEjectedPercent > 100) {
      throw new IllegalArgumentException("maxEjectedPercent must be in 0..100, got " + maxEjectedPercent);
    }
    this.failuresToEject = positive(failures, "failures");
    this.baseEjection = positive(base, "base");
    this.maxEjection = positive(max, "max");
    if (maxEjection.compareTo(baseEjection) < 0) {
      throw new IllegalArgumentException("max ejection " + max + " is shorter than the base " + base);
    }
    this.maxEjectedPercent = maxEjectedPercent;
    return this;
  }

  /** A translator with these settings (not started: the node starts it). */
  public SemnetTranslator build() {
    return new SemnetTranslator(new TranslatorConfig(maxFlows, parkedPerFlow, maxParked, parkTimeout.toMillis(),
        tcpEstablished.toMillis(), tcpTransitory.toMillis(), tcpClosing.toMillis(), udp.toMillis(), icmp.toMillis(),
        fragment.toMillis(), sweepInterval.toMillis(), underlayMtu, tunnelOverhead, ipv6Underlay, clampMss,
        holdPackets, holdBytes, holdBuffering, holdLinger.toNanos(), maxFragments, fragmentsPerFlow,
        icmpErrorsPerSecond, new HealthConfig(synTimeout.toMillis(), udpSilence.toMillis(), failuresToEject,
            baseEjection.toMillis(), maxEjection.toMillis(), maxEjectedPercent)));
  }

  private static Duration positive(Duration d, String what) {
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(what + " must be > 0, got " + d);
    }
    return d;
  }

  private static int positive(int n, String what) {
    if (n <= 0) {
      throw new IllegalArgumentException(what + " must be > 0, got " + n);
    }
    return n;
  }
}
