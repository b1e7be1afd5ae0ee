package io.semnet.tunnel.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.semnet.tunnel.CipherSuite;
import java.nio.ByteBuffer;
import java.security.Provider;
import java.security.SecureRandom;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import org.conscrypt.Conscrypt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The tunnel's AEAD: the default provider on this platform, and JDK and Conscrypt interoperating byte for byte. */
class AeadTest {
  private static final Provider CONSCRYPT = Conscrypt.newProvider();
  private static final byte[] AAD = "header-bytes-16!".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  @Test
  void theJdkIsTheDefault() {
    assertEquals("JDK", Aead.providerName());
    assertEquals(true, Conscrypt.isAvailable(), "Conscrypt's native library loads here (linux-x86_64)");
  }

  @ParameterizedTest
  @EnumSource(CipherSuite.class)
  void jdkAndConscryptOpenEachOthersDatagramsAndRefuseForgeries(CipherSuite suite) {
    byte[] k = new byte[32];
    new SecureRandom().nextBytes(k);
    SecretKey key = new SecretKeySpec(k, suite.keyAlgorithm());
    Aead jdk = new Aead(suite, null);
    Aead conscrypt = new Aead(suite, CONSCRYPT);
    byte[] plain = new byte[1400];
    new SecureRandom().nextBytes(plain);
    long counter = 7;
    for (Aead[] pair : new Aead[][] {{jdk, conscrypt}, {conscrypt, jdk}, {conscrypt, conscrypt}}) {
      counter++;
      // Direct buffers one way, heap buffers the other (Conscrypt stages heap buffers).
      boolean direct = pair[0] == conscrypt;
      ByteBuffer sealed = direct ? ByteBuffer.allocateDirect(plain.length + Aead.TAG_BYTES) : ByteBuffer.allocate(plain.length + Aead.TAG_BYTES);
      int n = pair[0].seal(key, 3, counter, AAD, AAD.length, ByteBuffer.wrap(plain), sealed);
      assertEquals(plain.length + Aead.TAG_BYTES, n);
      sealed.flip();
      ByteBuffer out = direct ? ByteBuffer.allocate(plain.length) : ByteBuffer.allocateDirect(plain.length);
      assertEquals(plain.length, pair[1].open(key, 3, counter, AAD, AAD.length, sealed.duplicate(), out));
      byte[] got = new byte[plain.length];
      out.flip().get(got);
      assertArrayEquals(plain, got);
      // A flipped ciphertext bit, a wrong counter, or other associated data: refused by both.
      ByteBuffer forged = ByteBuffer.allocateDirect(n);
      forged.put(sealed.duplicate()).flip();
      forged.put(100, (byte) (forged.get(100) ^ 1));
      assertEquals(-1, pair[1].open(key, 3, counter, AAD, AAD.length, forged, ByteBuffer.allocateDirect(plain.length)));
      assertEquals(-1, pair[1].open(key, 3, counter + 1, AAD, AAD.length, sealed.duplicate(), ByteBuffer.allocateDirect(plain.length)));
      assertEquals(-1, pair[1].open(key, 3, counter, AAD, AAD.length - 1, sealed.duplicate(), ByteBuffer.allocateDirect(plain.length)));
    }
  }
}
