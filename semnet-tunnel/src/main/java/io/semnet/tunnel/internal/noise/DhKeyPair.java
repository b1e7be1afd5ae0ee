package io.semnet.tunnel.internal.noise;

import io.semnet.tunnel.internal.X25519;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;

/**
 * An X25519 key pair for Noise: the JDK private key and the raw 32-byte public key. Immutable; the
 * public key accessor returns a copy. {@link #generate} draws the private key from SecureRandom;
 * {@link #fromPrivate} accepts given bytes (test vectors, stored identities; a node's
 * {@code NodeKeys.privateKeyBytes()}).
 */
public final class DhKeyPair {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final byte[] BASE_POINT = basePoint();

  private final PrivateKey privateKey;
  private final byte[] publicKey;

  private DhKeyPair(PrivateKey privateKey, byte[] publicKey) {
    this.privateKey = privateKey;
    this.publicKey = publicKey;
  }

  /** A fresh key pair (Noise GENERATE_KEYPAIR). */
  public static DhKeyPair generate() {
    byte[] k = new byte[32];
    RANDOM.nextBytes(k);
    return fromPrivate(k);
  }

  /** The key pair of a raw 32-byte X25519 private key (clamped by the agreement as RFC 7748 says). */
  public static DhKeyPair fromPrivate(byte[] raw) {
    if (raw == null || raw.length != 32) {
      throw new IllegalArgumentException("X25519 private keys have 32 bytes");
    }
    PrivateKey priv = X25519.privateKey(raw);
    byte[] pub = X25519.agree(priv, X25519.publicKey(BASE_POINT));
    if (pub == null) {
      throw new IllegalArgumentException("degenerate X25519 private key");
    }
    return new DhKeyPair(priv, pub);
  }

  /** The raw public key (a copy). */
  public byte[] publicKey() {
    return publicKey.clone();
  }

  byte[] publicKeyUnsafe() {
    return publicKey;
  }

  /** DH(this, theirs): the shared secret, or null if {@code theirs} is malformed or of small order. */
  public byte[] dh(byte[] theirs) {
    if (theirs == null || theirs.length != Noise.DHLEN) {
      return null;
    }
    PublicKey pk;
    try {
      pk = X25519.publicKey(theirs);
    } catch (IllegalArgumentException e) {
      return null;
    }
    return X25519.agree(privateKey, pk);
  }

  private static byte[] basePoint() {
    byte[] b = new byte[32];
    b[0] = 9;
    return b;
  }
}
