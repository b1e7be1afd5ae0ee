package io.semnet.core.trust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class TrustTest {
  private final RootAuthority root = RootAuthority.generate();
  private final Instant now = Instant.parse("2026-11-23T10:00:00Z");

  @Test
  void certificateRoundTripsAndVerifies() {
    NodeCertificate c = root.certify("worker-1", new byte[32], now.plusSeconds(3600));
    NodeCertificate back = NodeCertificate.decode(c.encode());
    assertEquals(c, back);
    assertTrue(root.trust().verify(back, now));
    assertTrue(RootTrust.ofBase64(root.trust().toBase64()).verify(back, now));
  }

  @Test
  void expiredForgedOrForeignCertificatesFail() {
    NodeCertificate c = root.certify("worker-1", new byte[32], now.plusSeconds(3600));
    assertFalse(root.trust().verify(c, now.plusSeconds(3601)));
    assertFalse(RootAuthority.generate().trust().verify(c, now));
    byte[] tampered = c.encode();
    tampered[3] ^= 1; // a byte of the node id
    assertFalse(root.trust().verify(NodeCertificate.decode(tampered), now));
  }

  @Test
  void malformedCertificatesAreRejectedWithoutSurprises() {
    byte[] enc = root.certify("n", new byte[32], now).encode();
    for (int len = 0; len < enc.length; len++) {
      byte[] cut = java.util.Arrays.copyOf(enc, len);
      assertThrows(IllegalArgumentException.class, () -> NodeCertificate.decode(cut));
    }
    assertFalse(root.trust().verify("m".getBytes(StandardCharsets.UTF_8), new byte[3]));
  }
}
