package io.semnet.tunnel.internal;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** HKDF-style derivation with HMAC-SHA256 (RFC 5869 extract and one-block expand). Handshake path only. */
public final class Kdf {
  private Kdf() {}

  public static byte[] hmac(byte[] key, byte[]... parts) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      for (byte[] p : parts) {
        mac.update(p);
      }
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
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
