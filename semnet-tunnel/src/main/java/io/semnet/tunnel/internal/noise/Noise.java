package io.semnet.tunnel.internal.noise;

import io.semnet.tunnel.CipherSuite;
import io.semnet.tunnel.internal.Kdf;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.MessageDigest;
import java.security.spec.AlgorithmParameterSpec;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The Noise hash functions for SHA-256 (spec rev 34, section 4.3 and 5.2): HASH, HMAC-HASH and the
 * two- and three-output HKDF, plus constant-time comparison. Every result is a fresh array.
 */
public final class Noise {
  /** HASHLEN for SHA-256. */
  public static final int HASHLEN = 32;
  /** DHLEN for Curve25519. */
  public static final int DHLEN = 32;
  /** AEAD tag length of both ciphers. */
  public static final int TAGLEN = 16;

  private Noise() {}

  /** The Noise protocol name for IK with 25519, {@code suite} and SHA256. */
  public static String protocolName(CipherSuite suite) {
    return "Noise_IK_25519_" + (suite == CipherSuite.AES_256_GCM ? "AESGCM" : "ChaChaPoly") + "_SHA256";
  }

  /** SHA-256 over the concatenation of {@code parts}. */
  public static byte[] hash(byte[]... parts) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (byte[] p : parts) {
        md.update(p);
      }
      return md.digest();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  /** HMAC-SHA256 with {@code key} over {@code data[off, off+len)}. */
  public static byte[] hmac(byte[] key, byte[] data, int off, int len) {
    Mac mac = Kdf.mac(key);
    mac.update(data, off, len);
    return mac.doFinal();
  }

  /** HMAC-SHA256 with {@code key} over the concatenation of {@code parts}. */
  public static byte[] hmac(byte[] key, byte[]... parts) {
    return Kdf.hmac(key, parts);
  }

  /**
   * One AEAD operation of {@code suite} with a 96-bit {@code iv}: {@code Cipher.ENCRYPT_MODE} gives
   * ciphertext || tag, {@code DECRYPT_MODE} the plaintext or an {@code AEADBadTagException}.
   * {@code cipher} is reused if given (null: a new one).
   */
  static byte[] aead(CipherSuite suite, Cipher cipher, int mode, Key key, byte[] iv, byte[] ad, byte[] input)
      throws GeneralSecurityException {
    Cipher c = cipher != null ? cipher : Cipher.getInstance(suite.transformation());
    AlgorithmParameterSpec params = suite == CipherSuite.AES_256_GCM ? new GCMParameterSpec(TAGLEN * 8, iv) : new IvParameterSpec(iv);
    c.init(mode, key, params);
    c.updateAAD(ad);
    return c.doFinal(input);
  }

  /**
   * Noise's HKDF(chainingKey, inputKeyMaterial, n) for n = 2 or 3: {@code temp = HMAC(ck, ikm)},
   * {@code out1 = HMAC(temp, 0x01)}, {@code out_i = HMAC(temp, out_{i-1} || i)}.
   */
  public static byte[][] hkdf(byte[] chainingKey, byte[] ikm, int outputs) {
    if (outputs != 2 && outputs != 3) {
      throw new IllegalArgumentException("HKDF gives 2 or 3 outputs");
    }
    byte[] temp = hmac(chainingKey, ikm);
    byte[][] out = new byte[outputs][];
    out[0] = hmac(temp, new byte[] {1});
    for (int i = 1; i < outputs; i++) {
      out[i] = hmac(temp, out[i - 1], new byte[] {(byte) (i + 1)});
    }
    return out;
  }

  /** Constant-time equality of {@code a[aOff, aOff+len)} and {@code b[bOff, bOff+len)}. */
  public static boolean constantTimeEquals(byte[] a, int aOff, byte[] b, int bOff, int len) {
    int acc = 0;
    for (int i = 0; i < len; i++) {
      acc |= a[aOff + i] ^ b[bOff + i];
    }
    return acc == 0;
  }
}
