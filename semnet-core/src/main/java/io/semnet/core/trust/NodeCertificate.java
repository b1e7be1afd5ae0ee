package io.semnet.core.trust;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;

/**
 * The root's statement "node {@code nodeId} owns tunnel public key {@code publicKey} until
 * {@code notAfter}". A node presents it on first contact so that a peer that never queried routes
 * for it can still authenticate it. Has a canonical binary form ({@link #encode()}/{@link #decode})
 * that is exactly what is signed plus the signature. Immutable.
 *
 * <pre>
 * u8 version(1) | u8 idLen | id (UTF-8) | u8 keyLen | key | i64 notAfter (epoch s) | 64-byte Ed25519 signature
 * </pre>
 */
public final class NodeCertificate {
  private static final int VERSION = 1;
  private static final int SIGNATURE_BYTES = 64;

  private final String nodeId;
  private final byte[] publicKey;
  private final Instant notAfter;
  private final byte[] signature;

  private NodeCertificate(String nodeId, byte[] publicKey, Instant notAfter, byte[] signature) {
    this.nodeId = nodeId;
    this.publicKey = publicKey;
    this.notAfter = notAfter;
    this.signature = signature;
  }

  static NodeCertificate of(String nodeId, byte[] publicKey, Instant notAfter, byte[] signature) {
    body(nodeId, publicKey, notAfter.getEpochSecond()); // validates
    if (signature.length != SIGNATURE_BYTES) {
      throw new IllegalArgumentException("signature must have 64 bytes");
    }
    return new NodeCertificate(nodeId, publicKey.clone(), Instant.ofEpochSecond(notAfter.getEpochSecond()), signature.clone());
  }

  static byte[] body(String nodeId, byte[] publicKey, long notAfterEpochSecond) {
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(publicKey, "publicKey");
    byte[] id = nodeId.getBytes(StandardCharsets.UTF_8);
    if (id.length == 0 || id.length > 255 || publicKey.length == 0 || publicKey.length > 255) {
      throw new IllegalArgumentException("node id and key must have 1..255 bytes");
    }
    ByteBuffer b = ByteBuffer.allocate(1 + 1 + id.length + 1 + publicKey.length + 8);
    b.put((byte) VERSION).put((byte) id.length).put(id).put((byte) publicKey.length).put(publicKey).putLong(notAfterEpochSecond);
    return b.array();
  }

  /** Parses the canonical form; throws IllegalArgumentException on malformed input (does not verify). */
  public static NodeCertificate decode(byte[] encoded) {
    try {
      ByteBuffer b = ByteBuffer.wrap(encoded);
      if (b.get() != VERSION) {
        throw new IllegalArgumentException("unknown certificate version");
      }
      byte[] id = new byte[b.get() & 0xff];
      b.get(id);
      byte[] key = new byte[b.get() & 0xff];
      b.get(key);
      long notAfter = b.getLong();
      byte[] sig = new byte[SIGNATURE_BYTES];
      b.get(sig);
      if (b.hasRemaining()) {
        throw new IllegalArgumentException("trailing bytes after certificate");
      }
      return of(new String(id, StandardCharsets.UTF_8), key, Instant.ofEpochSecond(notAfter), sig);
    } catch (java.nio.BufferUnderflowException e) {
      throw new IllegalArgumentException("truncated certificate", e);
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

  public Instant notAfter() {
    return notAfter;
  }

  byte[] signedBody() {
    return body(nodeId, publicKey, notAfter.getEpochSecond());
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
    return "NodeCertificate{" + nodeId + " until " + notAfter + "}";
  }
}
