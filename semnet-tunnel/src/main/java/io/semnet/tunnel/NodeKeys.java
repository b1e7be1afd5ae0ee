package io.semnet.tunnel;

import io.semnet.tunnel.internal.X25519;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.interfaces.XECPrivateKey;
import java.util.Objects;

/**
 * A node's long-term tunnel key pair (X25519). The raw 32-byte public key is what the root
 * certifies ({@code RootAuthority.certify(nodeId, keys.publicKey(), notAfter)}) and what travels in
 * the node's {@link io.semnet.core.address.WorkerEndpoint}; pairwise keys between nodes come from
 * X25519 agreement, so one node's compromise never lets it impersonate another. Immutable; the
 * private key never leaves this object except through {@link #privateKeyBytes()} for persistence.
 */
public final class NodeKeys {
  private final PrivateKey privateKey;
  private final byte[] publicKey;

  private NodeKeys(PrivateKey privateKey, byte[] publicKey) {
    this.privateKey = privateKey;
    this.publicKey = publicKey;
  }

  /** A fresh random key pair. */
  public static NodeKeys generate() {
    try {
      KeyPair kp = KeyPairGenerator.getInstance("X25519").generateKeyPair();
      return new NodeKeys(kp.getPrivate(), X25519.rawPublic(kp.getPublic()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("X25519 is not available in this JDK", e);
    }
  }

  /**
   * A key pair from its raw form (as saved with {@link #privateKeyBytes()} and {@link #publicKey()}).
   * The public key is checked against the private key.
   */
  public static NodeKeys of(byte[] rawPrivate, byte[] rawPublic) {
    Objects.requireNonNull(rawPrivate, "rawPrivate");
    Objects.requireNonNull(rawPublic, "rawPublic");
    if (rawPrivate.length != 32 || rawPublic.length != 32) {
      throw new IllegalArgumentException("X25519 keys have 32 bytes");
    }
    PrivateKey priv = X25519.privateKey(rawPrivate);
    // Check the pair: agreement with a fresh key must match from both sides.
    NodeKeys probe = generate();
    byte[] a = X25519.agree(priv, X25519.publicKey(probe.publicKey));
    byte[] b = X25519.agree(probe.privateKey, X25519.publicKey(rawPublic));
    if (a == null || !java.util.Arrays.equals(a, b)) {
      throw new IllegalArgumentException("public key does not belong to the private key");
    }
    return new NodeKeys(priv, rawPublic.clone());
  }

  /** The raw 32-byte X25519 public key (a copy). */
  public byte[] publicKey() {
    return publicKey.clone();
  }

  /** The raw 32-byte private scalar (a copy), for the node's key store. */
  public byte[] privateKeyBytes() {
    return ((XECPrivateKey) privateKey).getScalar().orElseThrow().clone();
  }

  /** For the tunnel's key agreement. */
  PrivateKey privateKey() {
    return privateKey;
  }

  byte[] publicKeyRef() {
    return publicKey;
  }

  @Override
  public String toString() {
    return "NodeKeys{" + java.util.Base64.getEncoder().encodeToString(publicKey).substring(0, 8) + "…}";
  }
}
