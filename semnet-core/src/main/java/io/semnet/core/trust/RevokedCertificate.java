package io.semnet.core.trust;

import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;

/**
 * One entry of the root's revocation list: the certificate {@code serial} that no longer vouches for
 * node {@code nodeId}'s tunnel key {@code publicKey}. The key and node id are there so a node can
 * also cut links it opened itself (an initiator never sees the responder's certificate, only its
 * key); {@code notAfter} is the certificate's, after which the entry can be dropped (an expired
 * certificate is refused anyway). Immutable.
 */
public final class RevokedCertificate {
  private final long serial;
  private final String nodeId;
  private final byte[] publicKey;
  private final Instant notAfter;

  private RevokedCertificate(long serial, String nodeId, byte[] publicKey, Instant notAfter) {
    if (serial < 0) {
      throw new IllegalArgumentException("serial must not be negative");
    }
    this.serial = serial;
    this.nodeId = Objects.requireNonNull(nodeId, "nodeId");
    this.publicKey = publicKey.clone();
    this.notAfter = Instant.ofEpochSecond(notAfter.getEpochSecond());
  }

  public static RevokedCertificate of(long serial, String nodeId, byte[] publicKey, Instant notAfter) {
    return new RevokedCertificate(serial, nodeId, publicKey, notAfter);
  }

  /** The entry that revokes {@code certificate}. */
  public static RevokedCertificate of(NodeCertificate certificate) {
    return new RevokedCertificate(certificate.serial(), certificate.nodeId(), certificate.publicKey(), certificate.notAfter());
  }

  public long serial() {
    return serial;
  }

  public String nodeId() {
    return nodeId;
  }

  /** The revoked certificate's tunnel key (a copy). */
  public byte[] publicKey() {
    return publicKey.clone();
  }

  /** True if the revoked certificate vouched for {@code key}. */
  public boolean hasPublicKey(byte[] key) {
    return Arrays.equals(publicKey, key);
  }

  public Instant notAfter() {
    return notAfter;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RevokedCertificate r && r.serial == serial && r.nodeId.equals(nodeId) && Arrays.equals(r.publicKey, publicKey)
        && r.notAfter.equals(notAfter);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(serial) * 31 + nodeId.hashCode();
  }

  @Override
  public String toString() {
    return "RevokedCertificate{#" + serial + " " + nodeId + " until " + notAfter + "}";
  }
}
