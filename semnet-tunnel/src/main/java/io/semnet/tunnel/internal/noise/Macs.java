package io.semnet.tunnel.internal.noise;

import io.semnet.tunnel.CipherSuite;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;

/**
 * The cheap MACs of handshake messages and the cookie box, WireGuard's construction with SHA-256:
 * {@code MAC(key, data)} is HMAC-SHA256 truncated to 16 bytes; mac1 is keyed with
 * {@code HASH("mac1----" || receiver's static public key)} and covers the message up to mac1;
 * mac2 is keyed with a cookie and covers the message up to mac2; cookies travel sealed under
 * {@code HASH("cookie--" || sender-of-the-cookie's static public key)} with a random 96-bit nonce
 * and mac1 of the message that triggered them as associated data.
 */
public final class Macs {
  private static final byte[] MAC1_LABEL = "mac1----".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] COOKIE_LABEL = "cookie--".getBytes(StandardCharsets.US_ASCII);

  private static final ThreadLocal<java.util.Map<CipherSuite, Cipher>> CIPHERS = ThreadLocal.withInitial(
      () -> new java.util.EnumMap<>(CipherSuite.class));

  private Macs() {}

  /** This thread's cipher for sealing cookies (random nonces; opening uses a fresh one: the JDK's ChaCha20 refuses a reused key and nonce even to decrypt). */
  private static Cipher cipher(CipherSuite suite) throws GeneralSecurityException {
    Cipher c = CIPHERS.get().get(suite);
    if (c == null) {
      c = Cipher.getInstance(suite.transformation());
      CIPHERS.get().put(suite, c);
    }
    return c;
  }

  /** The mac1 key of a receiver with static public key {@code pub}. */
  public static byte[] mac1Key(byte[] pub) {
    return Noise.hash(MAC1_LABEL, pub);
  }

  /** The key sealing cookies that a node with static public key {@code pub} hands out. */
  public static byte[] cookieKey(byte[] pub) {
    return Noise.hash(COOKIE_LABEL, pub);
  }

  /** MAC(key, msg[0, len)): 16 bytes. */
  public static byte[] mac(byte[] key, byte[] msg, int len) {
    return Arrays.copyOf(Noise.hmac(key, msg, 0, len), HandshakeCodec.MAC_BYTES);
  }

  /** Offset of mac1 in a message of {@code len} bytes that ends with mac1 || mac2. */
  public static int mac1Offset(int len) {
    return len - 2 * HandshakeCodec.MAC_BYTES;
  }

  /** Offset of mac2 in a message of {@code len} bytes that ends with mac1 || mac2. */
  public static int mac2Offset(int len) {
    return len - HandshakeCodec.MAC_BYTES;
  }

  /** Whether the 16 bytes at {@code macOffset} are MAC(key, msg[0, macOffset)); constant time. */
  public static boolean verify(byte[] key, byte[] msg, int macOffset) {
    byte[] expected = mac(key, msg, macOffset);
    return Noise.constantTimeEquals(expected, 0, msg, macOffset, HandshakeCodec.MAC_BYTES);
  }

  /** Seals a cookie (or any short value). */
  static byte[] seal(CipherSuite suite, byte[] key, byte[] nonce, byte[] ad, byte[] plaintext) {
    try {
      return Noise.aead(suite, cipher(suite), Cipher.ENCRYPT_MODE, new SecretKeySpec(key, suite.keyAlgorithm()), nonce, ad, plaintext);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("sealing a cookie failed", e);
    }
  }

  /** Opens a sealed cookie; null if it does not authenticate. */
  static byte[] open(CipherSuite suite, byte[] key, byte[] nonce, byte[] ad, byte[] ciphertext) {
    try {
      return Noise.aead(suite, null, Cipher.DECRYPT_MODE, new SecretKeySpec(key, suite.keyAlgorithm()), nonce, ad, ciphertext);
    } catch (AEADBadTagException e) {
      return null;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("opening a cookie failed", e);
    }
  }
}
