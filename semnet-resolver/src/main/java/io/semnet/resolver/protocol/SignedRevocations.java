package io.semnet.resolver.protocol;

import io.semnet.core.trust.RevokedCertificate;
import io.semnet.core.trust.RootAuthority;
import io.semnet.core.trust.RootTrust;
import io.semnet.resolver.internal.Canonical;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * A version of the root's certificate revocation list, signed by the root: the node certificates
 * (by serial) that no longer vouch for their node, e.g. of deregistered nodes. Each version replaces
 * the previous one whole; versions only grow (nodes keep a persisted floor, so an old list cannot be
 * replayed to lift a revocation). Entries are sorted by serial. Immutable.
 */
public final class SignedRevocations {
  /** The list before the root revoked anything (version 0, unsigned). */
  public static final SignedRevocations NONE = new SignedRevocations(0, List.of(), null);

  private final long version;
  private final List<RevokedCertificate> revoked;
  private final byte[] signature;

  private SignedRevocations(long version, List<RevokedCertificate> revoked, byte[] signature) {
    this.version = version;
    this.revoked = revoked.stream().sorted(Comparator.comparingLong(RevokedCertificate::serial)).toList();
    this.signature = signature == null ? null : signature.clone();
  }

  public static SignedRevocations sign(long version, List<RevokedCertificate> revoked, RootAuthority authority) {
    SignedRevocations unsigned = new SignedRevocations(version, Objects.requireNonNull(revoked, "revoked"), null);
    return new SignedRevocations(version, unsigned.revoked, authority.sign(Canonical.revocationsBody(version, unsigned.revoked)));
  }

  public static SignedRevocations of(long version, List<RevokedCertificate> revoked, byte[] signature) {
    return new SignedRevocations(version, Objects.requireNonNull(revoked, "revoked"), signature);
  }

  public long version() {
    return version;
  }

  /** The revoked certificates, by serial. */
  public List<RevokedCertificate> revoked() {
    return revoked;
  }

  public byte[] signature() {
    return signature == null ? null : signature.clone();
  }

  public boolean verify(RootTrust trust) {
    return signature != null && trust != null && trust.verify(Canonical.revocationsBody(version, revoked), signature);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SignedRevocations r && r.version == version && r.revoked.equals(revoked) && Arrays.equals(r.signature, signature);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(version) * 31 + revoked.hashCode();
  }

  @Override
  public String toString() {
    return "SignedRevocations{v" + version + " " + revoked + "}";
  }
}
