package io.semnet.tunnel.internal;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.XECPublicKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import javax.crypto.KeyAgreement;

/** Conversions between raw RFC 7748 X25519 keys and JDK key objects, and the agreement itself. */
public final class X25519 {
  private X25519() {}

  /** Raw little-endian 32-byte u-coordinate of a JDK X25519 public key. */
  public static byte[] rawPublic(PublicKey key) {
    BigInteger u = ((XECPublicKey) key).getU();
    byte[] be = u.toByteArray();
    byte[] le = new byte[32];
    for (int i = 0; i < 32 && i < be.length; i++) {
      le[i] = be[be.length - 1 - i];
    }
    return le;
  }

  /** A JDK public key from 32 raw bytes (bit 255 masked as RFC 7748 requires). */
  public static PublicKey publicKey(byte[] raw) {
    if (raw == null || raw.length != 32) {
      throw new IllegalArgumentException("X25519 public keys have 32 bytes");
    }
    byte[] be = new byte[33];
    for (int i = 0; i < 32; i++) {
      be[32 - i] = raw[i];
    }
    be[1] &= 0x7f;
    try {
      return KeyFactory.getInstance("X25519").generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, new BigInteger(be)));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("bad X25519 public key", e);
    }
  }

  public static PrivateKey privateKey(byte[] raw) {
    try {
      return KeyFactory.getInstance("X25519").generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, raw.clone()));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("bad X25519 private key", e);
    }
  }

  /** The shared secret, or null if the peer key is degenerate (small order: all-zero result). */
  public static byte[] agree(PrivateKey mine, PublicKey theirs) {
    try {
      KeyAgreement ka = KeyAgreement.getInstance("X25519");
      ka.init(mine);
      ka.doPhase(theirs, true);
      byte[] s = ka.generateSecret();
      int acc = 0;
      for (byte b : s) {
        acc |= b;
      }
      return acc == 0 ? null : s;
    } catch (GeneralSecurityException | RuntimeException e) {
      return null;
    }
  }
}
