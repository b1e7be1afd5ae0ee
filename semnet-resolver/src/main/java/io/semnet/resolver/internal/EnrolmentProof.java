package io.semnet.resolver.internal;

import io.semnet.core.address.Addresses;
import io.semnet.resolver.protocol.EnrolRequest;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The proof of possession of a join token: HMAC-SHA256 keyed by the token's secret over a
 * length-prefixed encoding of everything the request asks the root to certify (token id, node id,
 * endpoint address and port, tunnel public key, location, MQTT public key, pinned root key hash).
 * Changing any of them, or reusing the proof for other keys, makes it fail.
 */
public final class EnrolmentProof {
  private static final byte[] DOMAIN = "semnet-enrol-v1".getBytes(StandardCharsets.UTF_8);

  private EnrolmentProof() {}

  /** The proof of {@code request} (its own proof field is ignored). */
  public static byte[] compute(byte[] secret, EnrolRequest request) {
    ByteArrayOutputStream m = new ByteArrayOutputStream();
    field(m, DOMAIN);
    field(m, utf8(request.tokenId()));
    field(m, utf8(request.endpoint().nodeId()));
    field(m, utf8(Addresses.format(request.endpoint().address().getAddress()) + "|" + request.endpoint().address().getPort()));
    field(m, request.endpoint().publicKey());
    field(m, utf8(request.location() == null ? "" : request.location().latitude() + "," + request.location().longitude()));
    field(m, request.mqttPublicKey() == null ? new byte[0] : request.mqttPublicKey());
    field(m, utf8(request.rootKeyHash()));
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      return mac.doFinal(m.toByteArray());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }

  /** Whether {@code request}'s proof is right for {@code secret} (constant time). */
  public static boolean matches(byte[] secret, EnrolRequest request) {
    return MessageDigest.isEqual(compute(secret, request), request.proof());
  }

  /** {@code sha256:<hex>} of an encoded public key. */
  public static String keyHash(byte[] encodedKey) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(encodedKey);
      StringBuilder b = new StringBuilder("sha256:");
      for (byte x : d) {
        b.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
      }
      return b.toString();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Base64 without padding, for ids. */
  public static String b64(byte[] b) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static void field(ByteArrayOutputStream m, byte[] b) {
    m.write(b.length >>> 24);
    m.write(b.length >>> 16);
    m.write(b.length >>> 8);
    m.write(b.length);
    m.writeBytes(b);
  }
}
