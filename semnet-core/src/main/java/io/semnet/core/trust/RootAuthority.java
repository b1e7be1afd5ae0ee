package io.semnet.core.trust;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.time.Instant;
import java.util.Objects;

/**
 * The root's signing identity (Ed25519): it vouches for node tunnel keys ({@link NodeCertificate})
 * and signs service records, so that nodes configured with the root's public key ({@link RootTrust})
 * accept routes and peers only on the root's word. Whoever holds this object can redirect traffic:
 * keep it only in the root service manager. Thread-safe.
 */
public final class RootAuthority {
  private final PrivateKey privateKey;
  private final RootTrust trust;
  private final java.util.concurrent.atomic.AtomicLong serials = new java.util.concurrent.atomic.AtomicLong();

  private RootAuthority(KeyPair pair) {
    this.privateKey = pair.getPrivate();
    this.trust = RootTrust.of(pair.getPublic().getEncoded());
  }

  /** A new authority with a fresh Ed25519 key pair. */
  public static RootAuthority generate() {
    try {
      return new RootAuthority(KeyPairGenerator.getInstance("Ed25519").generateKeyPair());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 is not available in this JDK", e);
    }
  }

  /** An authority from an existing key pair (e.g. loaded from the root's key store). */
  public static RootAuthority of(KeyPair pair) {
    Objects.requireNonNull(pair, "pair");
    if (!"Ed25519".equalsIgnoreCase(pair.getPublic().getAlgorithm()) && !"EdDSA".equalsIgnoreCase(pair.getPublic().getAlgorithm())) {
      throw new IllegalArgumentException("the root key must be Ed25519, got " + pair.getPublic().getAlgorithm());
    }
    return new RootAuthority(pair);
  }

  /** What nodes are configured with to verify this authority's signatures. */
  public RootTrust trust() {
    return trust;
  }

  /** Signs {@code message} (Ed25519, 64-byte signature). */
  public byte[] sign(byte[] message) {
    try {
      Signature s = Signature.getInstance("Ed25519");
      s.initSign(privateKey);
      s.update(message);
      return s.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("signing failed", e);
    }
  }

  /**
   * Vouches that {@code tunnelPublicKey} belongs to node {@code nodeId} from now until
   * {@code notAfter}, under the next serial of this object's own counter (tests and tools; the
   * root service allocates serials durably and calls {@link #certify(String, byte[], long, Instant, Instant)}).
   */
  public NodeCertificate certify(String nodeId, byte[] tunnelPublicKey, Instant notAfter) {
    return certify(nodeId, tunnelPublicKey, serials.incrementAndGet(), Instant.now(), notAfter);
  }

  /** Vouches that {@code tunnelPublicKey} belongs to node {@code nodeId} from {@code notBefore} until {@code notAfter}, as certificate {@code serial}. */
  public NodeCertificate certify(String nodeId, byte[] tunnelPublicKey, long serial, Instant notBefore, Instant notAfter) {
    byte[] body = NodeCertificate.body(nodeId, tunnelPublicKey, serial, notBefore.getEpochSecond(), notAfter.getEpochSecond());
    return NodeCertificate.of(2, nodeId, tunnelPublicKey, serial, notBefore, notAfter, sign(body));
  }
}
