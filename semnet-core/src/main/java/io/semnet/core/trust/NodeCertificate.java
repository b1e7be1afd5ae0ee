package io.semnet.core.trust;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;

/**
 * The root's statement "node {@code nodeId} owns tunnel public key {@code publicKey} from
 * {@code notBefore} until {@code notAfter}", numbered by the root with a {@code serial} (allocated
 * monotonically and durably by the root, so a later certificate has a greater serial). A node
 * presents it on first contact so that a peer that never queried routes for it can still
 * authenticate it; a revocation names it by serial ({@link RevokedCertificate}). Has a canonical
 * binary form ({@link #encode()}/{@link #decode}) that is exactly what is signed plus the signature.
 * Immutable.
 *
 * <pre>
 * version 2: u8 2 | u8 idLen | id (UTF-8) | u8 keyLen | key | u64 serial | i64 notBefore (epoch s) | i64 notAfter (epoch s) | 64-byte Ed25519 signature
 * version 1: u8 1 | u8 idLen | id (UTF-8) | u8 keyLen | key | i64 notAfter (epoch s) | 64-byte Ed25519 signature
 * </pre>
 *
 * Version 1 (before serials) is still decoded and verified, as serial 0 with {@code notBefore} at the
 * epoch: such a certificate is older than any numbered one. New certificates are always version 2.
 */
public final class NodeCertificate {
  private static final int VERSION_1 = 1;
  private static final int VERSION = 2;
  private static final int SIGNATURE_BYTES = 64;

  private final int version;
  private final String nodeId;
  private final byte[] publicKey;
  private final long serial;
  private final Instant notBefore;
  private final Instant notAfter;
  private final byte[] signature;

  private NodeCertificate(int version, String nodeId, byte[] publicKey, long serial, Instant notBefore, Instant notAfter,
      byte[] signature) {
    this.version = version;
    this.nodeId = nodeId;
    this.publicKey = publicKey;
    this.serial = serial;
    this.notBefore = notBefore;
    this.notAfter = notAfter;
    this.signature = signature;
  }

  static NodeCertificate of(int version, String nodeId, byte[] publicKey, long serial, Instant notBefore, Instant notAfter,
      byte[] signature) {
    body(version, nodeId, publicKey, serial, notBefore.getEpochSecond(), notAfter.getEpochSecond()); // validates
    if (signature.length != SIGNATURE_BYTES) {
      throw new IllegalArgumentException("signature must have 64 bytes");
    }
    return new NodeCertificate(version, nodeId, publicKey.clone(), serial, Instant.ofEpochSecond(notBefore.getEpochSecond()),
        Instant.ofEpochSecond(notAfter.getEpochSecond()), signature.clone());
  }

  static byte[] body(int version, String nodeId, byte[] publicKey, long serial, long notBeforeEpochSecond, long notAfterEpochSecond) {
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(publicKey, "publicKey");
    byte[] id = nodeId.getBytes(StandardCharsets.UTF_8);
    if (id.length == 0 || id.length > 255 || publicKey.length == 0 || publicKey.length > 255) {
      throw new IllegalArgumentException("node id and key must have 1..255 bytes");
    }
    if (version == VERSION_1) {
      ByteBuffer b = ByteBuffer.allocate(1 + 1 + id.length + 1 + publicKey.length + 8);
      b.put((byte) VERSION_1).put((byte) id.length).put(id).put((byte) publicKey.length).put(publicKey).putLong(notAfterEpochSecond);
      return b.array();
    }
    if (serial < 0) {
      throw new IllegalArgumentException("serial must not be negative");
    }
    if (notBeforeEpochSecond > notAfterEpochSecond) {
      throw new IllegalArgumentException("notBefore is after notAfter");
    }
    ByteBuffer b = ByteBuffer.allocate(1 + 1 + id.length + 1 + publicKey.length + 24);
    b.put((byte) VERSION).put((byte) id.length).put(id).put((byte) publicKey.length).put(publicKey)
        .putLong(serial).putLong(notBeforeEpochSecond).putLong(notAfterEpochSecond);
    return b.array();
  }

  static byte[] body(String nodeId, byte[] publicKey, long serial, long notBeforeEpochSecond, long notAfterEpochSecond) {
    return body(VERSION, nodeId, publicKey, serial, notBeforeEpochSecond, notAfterEpochSecond);
  }

  /** Parses the canonical form; throws IllegalArgumentException on malformed input (does not verify). */
  public static NodeCertificate decode(byte[] encoded) {
    try {
      ByteBuffer b = ByteBuffer.wrap(encoded);
      int version = b.get();
      if (version != VERSION && version != VERSION_1) {
        throw new IllegalArgumentException("unknown certificate version");
      }
      byte[] id = new byte[b.get() & 0xff];
      b.get(id);
      byte[] key = new byte[b.get() & 0xff];
      b.get(key);
      long serial = version == VERSION ? b.getLong() : 0;
      long notBefore = version == VERSION ? b.getLong() : 0;
      long notAfter = b.getLong();
      byte[] sig = new byte[SIGNATURE_BYTES];
      b.get(sig);
      if (b.hasRemaining()) {
        throw new IllegalArgumentException("trailing bytes after certificate");
      }
      return of(version, new String(id, StandardCharsets.UTF_8), key, serial, Instant.ofEpochSecond(notBefore),
          Instant.ofEpochSecond(notAfter), sig);
    } catch (java.nio.BufferUnderflowException | java.time.DateTimeException e) {
      throw new IllegalArgumentException("truncated or out-of-range certificate", e);
    }
  }

  public byte[] encode() {
    byte[] body = signedBody();
    byte[] out = Arrays.copyOf(body, body.length + SIGNATURE_BYTES);
    System.arraycopy(signature, 0, out, body.length, SIGNATURE_BYTES);
    return out;
  }

  public String nodeId() {
    return nodeId;
  }

  /** The node's tunnel public key (a copy). */
  public byte[] publicKey() {
    return publicKey.clone();
  }

  /** The root's number for this certificate (0 for a version-1 certificate, issued before serials). */
  public long serial() {
    return serial;
  }

  /** When the root issued it (the epoch for a version-1 certificate). */
  public Instant notBefore() {
    return notBefore;
  }

  public Instant notAfter() {
    return notAfter;
  }

  /**
   * True if this certificate is older than {@code other}: a smaller serial, or (same serial, which
   * only version-1 certificates share) an earlier {@code notBefore}, then {@code notAfter}.
   */
  public boolean isOlderThan(NodeCertificate other) {
    if (serial != other.serial) {
      return serial < other.serial;
    }
    if (!notBefore.equals(other.notBefore)) {
      return notBefore.isBefore(other.notBefore);
    }
    return notAfter.isBefore(other.notAfter);
  }

  byte[] signedBody() {
    return body(version, nodeId, publicKey, serial, notBefore.getEpochSecond(), notAfter.getEpochSecond());
  }

  byte[] signatureBytes() {
    return signature;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NodeCertificate && Arrays.equals(((NodeCertificate) o).encode(), encode());
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(encode());
  }

  @Override
  public String toString() {
    return "NodeCertificate{#" + serial + " " + nodeId + " " + notBefore + ".." + notAfter + "}";
  }
}
