package io.semnet.tunnel.internal;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** HKDF-style derivation with HMAC-SHA256 (RFC 5869 extract and one-block expand). Handshake path only. */
public final class Kdf {
  private static final ThreadLocal<Mac> MAC = ThreadLocal.withInitial(() -> {
    try {
      return Mac.getInstance("HmacSHA256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  });

  private Kdf() {}

  /** This thread's HMAC-SHA256 instance, initialised with {@code key} (reuse spares the provider lookup on every handshake message). */
  public static Mac mac(byte[] key) {
    Mac mac = MAC.get();
    try {
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 key refused", e);
    }
    return mac;
  }

  public static byte[] hmac(byte[] key, byte[]... parts) {
    Mac mac = mac(key);
    for (byte[] p : parts) {
      mac.update(p);
    }
    return mac.doFinal();
  }

  /** HKDF-Extract. */
  public static byte[] extract(String salt, byte[] ikm) {
    return hmac(salt.getBytes(StandardCharsets.US_ASCII), ikm);
  }

  /** HKDF-Expand for one 32-byte block. */
  public static byte[] expand(byte[] prk, String label, byte[]... context) {
    byte[][] parts = new byte[context.length + 2][];
    parts[0] = label.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(context, 0, parts, 1, context.length);
    parts[parts.length - 1] = new byte[] {1};
    return hmac(prk, parts);
  }
}
