package io.semnet.core.trust;

import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;

/**
 * One entry of the root's revocation list: certificate {@code serial} of node {@code nodeId}, and
 * every earlier certificate of that node (smaller serial: the ones renewals superseded), no longer
 * vouch for it ({@link #revokes}). A later certificate of the node (a new registration, under a new
 * key) is not affected. The key is there so a node can also cut links it opened itself (an
 * initiator never sees the responder's certificate, only its key); the root never certifies a
 * revoked key again. {@code notAfter} is the certificate's, after which the entry can be dropped:
 * it and the earlier ones have expired. Immutable.
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

  /** True if this entry revokes {@code certificate}: same node, serial not greater. */
  public boolean revokes(NodeCertificate certificate) {
    return certificate.nodeId().equals(nodeId) && certificate.serial() <= serial;
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
