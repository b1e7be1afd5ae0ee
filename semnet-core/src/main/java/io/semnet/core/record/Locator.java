package io.semnet.core.record;

import io.semnet.core.address.Addresses;
import io.semnet.core.address.WorkerEndpoint;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Objects;

/**
 * Where an instance physically is: its namespace IP(s) on its node and the node's worker endpoint,
 * with a version stamped by the root. A migration produces a new locator with a higher version;
 * nodes never replace a locator with one of a lower version. Immutable.
 *
 * <p>A locator the root issues for a move to another node also names the instance's previous place
 * ({@link #previous()}) and when the move was recorded ({@link #movedAtMillis()}, the root's wall
 * clock): the data path lets that node, and only it, forward held and late packets for the instance
 * and relay its replies, for the migration linger after that time (cryptokey routing). Both are
 * part of the signed record.
 */
public final class Locator {
  private final Inet4Address namespaceIpv4;
  private final Inet6Address namespaceIpv6;
  private final WorkerEndpoint worker;
  private final long version;
  private final WorkerEndpoint previous;
  private final long movedAtMillis;

  private Locator(Inet4Address v4, Inet6Address v6, WorkerEndpoint worker, long version) {
    this(v4, v6, worker, version, null, 0);
  }

  private Locator(Inet4Address v4, Inet6Address v6, WorkerEndpoint worker, long version, WorkerEndpoint previous,
      long movedAtMillis) {
    if (v4 == null && v6 == null) {
      throw new IllegalArgumentException("a locator needs an IPv4 or an IPv6 namespace address");
    }
    if (version < 0) {
      throw new IllegalArgumentException("version must be >= 0, got " + version);
    }
    this.namespaceIpv4 = v4;
    this.namespaceIpv6 = v6;
    this.worker = Objects.requireNonNull(worker, "worker");
    this.version = version;
    this.previous = previous;
    this.movedAtMillis = previous == null ? 0 : movedAtMillis;
  }

  /**
   * @param namespaceIpv4 IPv4 namespace address or null
   * @param namespaceIpv6 IPv6 namespace address or null (at least one is required)
   */
  public static Locator of(InetAddress namespaceIpv4, InetAddress namespaceIpv6, WorkerEndpoint worker, long version) {
    if (namespaceIpv4 != null && !(namespaceIpv4 instanceof Inet4Address)) {
      throw new IllegalArgumentException("not an IPv4 address: " + namespaceIpv4);
    }
    if (namespaceIpv6 != null && !(namespaceIpv6 instanceof Inet6Address)) {
      throw new IllegalArgumentException("not an IPv6 address: " + namespaceIpv6);
    }
    return new Locator((Inet4Address) namespaceIpv4, (Inet6Address) namespaceIpv6, worker, version);
  }

  /** The IPv4 namespace address, or null. */
  public Inet4Address namespaceIpv4() {
    return namespaceIpv4;
  }

  /** The IPv6 namespace address, or null. */
  public Inet6Address namespaceIpv6() {
    return namespaceIpv6;
  }

  /** The namespace address of the given family, or null if the instance has none. */
  public InetAddress namespaceIp(boolean ipv4) {
    return ipv4 ? namespaceIpv4 : namespaceIpv6;
  }

  public WorkerEndpoint worker() {
    return worker;
  }

  public long version() {
    return version;
  }

  /** True if this locator is newer than {@code other} (or other is null). */
  public boolean isNewerThan(Locator other) {
    return other == null || version > other.version;
  }

  public Locator withVersion(long newVersion) {
    return new Locator(namespaceIpv4, namespaceIpv6, worker, newVersion, previous, movedAtMillis);
  }

  /**
   * This locator as the result of a move from {@code from} (the node the instance left) recorded at
   * {@code atMillis} (epoch millis); {@code from} null clears it.
   */
  public Locator movedFrom(WorkerEndpoint from, long atMillis) {
    return new Locator(namespaceIpv4, namespaceIpv6, worker, version, from, atMillis);
  }

  /** The node the instance left when it moved here (a migration), or null. */
  public WorkerEndpoint previous() {
    return previous;
  }

  /** When the move from {@link #previous()} was recorded (epoch millis), 0 without one. */
  public long movedAtMillis() {
    return movedAtMillis;
  }

  /**
   * True if this locator names node {@code nodeId} as the instance's previous place and
   * {@code nowMillis} is within {@code lingerMillis} after the move: that node may still forward
   * the instance's packets and relay its replies.
   */
  public boolean previousMayRelay(String nodeId, long nowMillis, long lingerMillis) {
    return previous != null && previous.nodeId().equals(nodeId) && nowMillis >= movedAtMillis - lingerMillis
        && nowMillis - movedAtMillis <= lingerMillis;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Locator)) {
      return false;
    }
    Locator l = (Locator) o;
    return version == l.version
        && Objects.equals(namespaceIpv4, l.namespaceIpv4)
        && Objects.equals(namespaceIpv6, l.namespaceIpv6)
        && worker.equals(l.worker)
        && Objects.equals(previous, l.previous)
        && movedAtMillis == l.movedAtMillis;
  }

  @Override
  public int hashCode() {
    return Objects.hash(namespaceIpv4, namespaceIpv6, worker, version);
  }

  @Override
  public String toString() {
    return "Locator{" + (namespaceIpv4 == null ? "" : Addresses.format(namespaceIpv4) + " ")
        + (namespaceIpv6 == null ? "" : Addresses.format(namespaceIpv6) + " ")
        + "on " + worker.nodeId() + " v" + version + (previous == null ? "" : " from " + previous.nodeId()) + "}";
  }
}
