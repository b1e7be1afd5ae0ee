package io.semnet.resolver.protocol;

import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RootAuthority;
import io.semnet.core.trust.RootTrust;
import io.semnet.resolver.internal.Canonical;
import java.util.Arrays;
import java.util.Objects;

/**
 * "Service {@code service} is gone as of record version {@code version}". Signed by the root when
 * the service was really removed; unsigned when a manager only withdraws visibility (a grant was
 * revoked, or the service is unknown to it). A removal can only make a node forget a route, never
 * redirect traffic, so receivers accept unsigned ones (see the threat model in the README).
 * Immutable.
 */
public final class SignedRemoval {
  private final ServiceId service;
  private final long version;
  private final byte[] signature;

  private SignedRemoval(ServiceId service, long version, byte[] signature) {
    this.service = Objects.requireNonNull(service, "service");
    this.version = version;
    this.signature = signature == null ? null : signature.clone();
  }

  public static SignedRemoval sign(ServiceId service, long version, RootAuthority authority) {
    return new SignedRemoval(service, version, authority.sign(Canonical.removalBody(service, version)));
  }

  public static SignedRemoval of(ServiceId service, long version, byte[] signature) {
    return new SignedRemoval(service, version, signature);
  }

  /** A visibility withdrawal (no root signature). */
  public static SignedRemoval withdrawn(ServiceId service, long version) {
    return new SignedRemoval(service, version, null);
  }

  public ServiceId service() {
    return service;
  }

  public long version() {
    return version;
  }

  public byte[] signature() {
    return signature == null ? null : signature.clone();
  }

  public boolean isSigned() {
    return signature != null;
  }

  public boolean verify(RootTrust trust) {
    return signature != null && trust != null && trust.verify(Canonical.removalBody(service, version), signature);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SignedRemoval && ((SignedRemoval) o).service.equals(service)
        && ((SignedRemoval) o).version == version && Arrays.equals(((SignedRemoval) o).signature, signature);
  }

  @Override
  public int hashCode() {
    return service.hashCode() * 31 + Long.hashCode(version);
  }

  @Override
  public String toString() {
    return "Removal{" + service + " v" + version + (signature == null ? " withdrawn" : "") + "}";
  }
}
