package io.semnet.resolver.protocol;

import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RootAuthority;
import io.semnet.core.trust.RootTrust;
import io.semnet.resolver.internal.Canonical;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The root's freshness statement (the role of TUF's timestamp): "at {@code issuedAt}, in root epoch
 * {@code epoch}, the newest version of each listed service is at least the listed one, and the
 * isolation rules are at least version {@code rulesVersion}; believe this until {@code expiresAt}".
 * The root re-signs one every few seconds; managers forward it unchanged and hand the latest one
 * to every client in the hello reply. A node that accepted it refuses any record, removal or rule
 * set older than what it vouches for, so a party replaying old signed messages (a broker, a
 * compromised cluster manager) cannot roll a node back, not even a fresh or restarted one.
 *
 * <p>A node accepts a heartbeat only if the root signed it, it has not expired, and it is newer
 * than the one it holds ({@code (epoch, issuedAt)} ordered); expiry gates only accepting new
 * heartbeats, it never removes routes a node already holds. The listed versions are keyed by the
 * service's dotted id (a removed service is listed with the version of its removal). At most
 * {@link #MAX_SERVICES} entries. Immutable.
 */
public final class SignedHeartbeat {
  /** Upper bound of services one heartbeat lists (the 4 MiB message limit holds about 80,000). */
  public static final int MAX_SERVICES = 65_536;

  private final long epoch;
  private final long issuedAtMillis;
  private final long expiresAtMillis;
  private final long rulesVersion;
  private final Map<ServiceId, Long> versions;
  private final byte[] signature;

  private SignedHeartbeat(long epoch, long issuedAtMillis, long expiresAtMillis, long rulesVersion,
      Map<ServiceId, Long> versions, byte[] signature) {
    if (epoch < 0 || rulesVersion < 0 || expiresAtMillis < issuedAtMillis) {
      throw new IllegalArgumentException("heartbeat with negative epoch or rules version, or expiring before issued");
    }
    if (versions.size() > MAX_SERVICES) {
      throw new IllegalArgumentException("heartbeat lists " + versions.size() + " services, at most " + MAX_SERVICES);
    }
    TreeMap<ServiceId, Long> sorted = new TreeMap<>((a, b) -> a.toString().compareTo(b.toString()));
    for (Map.Entry<ServiceId, Long> e : versions.entrySet()) {
      long v = Objects.requireNonNull(e.getValue(), "version");
      if (v < 0) {
        throw new IllegalArgumentException("negative version for " + e.getKey());
      }
      sorted.put(Objects.requireNonNull(e.getKey(), "service"), v);
    }
    this.epoch = epoch;
    this.issuedAtMillis = issuedAtMillis;
    this.expiresAtMillis = expiresAtMillis;
    this.rulesVersion = rulesVersion;
    this.versions = Collections.unmodifiableMap(sorted);
    this.signature = signature == null ? null : signature.clone();
  }

  /** Signs a heartbeat (root only). */
  public static SignedHeartbeat sign(long epoch, long issuedAtMillis, long expiresAtMillis, long rulesVersion,
      Map<ServiceId, Long> versions, RootAuthority authority) {
    SignedHeartbeat unsigned = new SignedHeartbeat(epoch, issuedAtMillis, expiresAtMillis, rulesVersion, versions, null);
    return new SignedHeartbeat(epoch, issuedAtMillis, expiresAtMillis, rulesVersion, unsigned.versions,
        authority.sign(unsigned.signedBody()));
  }

  /** Reassembles a heartbeat received from the wire (not verified: call {@link #verify}). */
  public static SignedHeartbeat of(long epoch, long issuedAtMillis, long expiresAtMillis, long rulesVersion,
      Map<ServiceId, Long> versions, byte[] signature) {
    return new SignedHeartbeat(epoch, issuedAtMillis, expiresAtMillis, rulesVersion, versions, signature);
  }

  public long epoch() {
    return epoch;
  }

  public long issuedAtMillis() {
    return issuedAtMillis;
  }

  public long expiresAtMillis() {
    return expiresAtMillis;
  }

  public long rulesVersion() {
    return rulesVersion;
  }

  /** The lowest version a node may still accept per listed service (sorted by id, unmodifiable). */
  public Map<ServiceId, Long> versions() {
    return versions;
  }

  public byte[] signature() {
    return signature == null ? null : signature.clone();
  }

  /** True if this heartbeat is newer than {@code other} (null counts as oldest). */
  public boolean isNewerThan(SignedHeartbeat other) {
    return other == null || epoch > other.epoch || (epoch == other.epoch && issuedAtMillis > other.issuedAtMillis);
  }

  /** The bytes the signature covers. */
  public byte[] signedBody() {
    return Canonical.heartbeatBody(epoch, issuedAtMillis, expiresAtMillis, rulesVersion, versions);
  }

  /** True if the root signed exactly this heartbeat. Never throws on bad input. */
  public boolean verify(RootTrust trust) {
    try {
      return signature != null && trust != null && trust.verify(signedBody(), signature);
    } catch (RuntimeException e) {
      return false;
    }
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof SignedHeartbeat)) {
      return false;
    }
    SignedHeartbeat h = (SignedHeartbeat) o;
    return h.epoch == epoch && h.issuedAtMillis == issuedAtMillis && h.expiresAtMillis == expiresAtMillis
        && h.rulesVersion == rulesVersion && h.versions.equals(versions) && Arrays.equals(h.signature, signature);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(epoch) * 31 + Long.hashCode(issuedAtMillis);
  }

  @Override
  public String toString() {
    return "Heartbeat{epoch " + epoch + " at " + issuedAtMillis + " until " + expiresAtMillis + ", rules v" + rulesVersion
        + ", " + versions.size() + " services}";
  }
}
