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
    NodeCertificate c = root.certify("worker-1", new byte[32], 7, now, now.plusSeconds(3600));
    NodeCertificate back = NodeCertificate.decode(c.encode());
    assertEquals(c, back);
    assertTrue(root.trust().verify(back, now));
    assertTrue(RootTrust.ofBase64(root.trust().toBase64()).verify(back, now));
    assertEquals(7, back.serial());
    assertEquals(now, back.notBefore());
  }

  @Test
  void notYetValidCertificatesFailBeyondTheClockSkew() {
    NodeCertificate c = root.certify("worker-1", new byte[32], 7, now, now.plusSeconds(3600));
    assertTrue(root.trust().verify(c, now.minus(RootTrust.CLOCK_SKEW)));
    assertFalse(root.trust().verify(c, now.minus(RootTrust.CLOCK_SKEW).minusSeconds(1)));
  }

  @Test
  void olderMeansASmallerSerialThenAnEarlierNotBefore() {
    byte[] key = new byte[32];
    NodeCertificate first = root.certify("w", key, 1, now, now.plusSeconds(60));
    NodeCertificate second = root.certify("w", key, 2, now.minusSeconds(10), now.plusSeconds(30));
    assertTrue(first.isOlderThan(second), "the serial decides, whatever the times say");
    assertFalse(second.isOlderThan(first));
    assertTrue(root.certify("w", key, 2, now.minusSeconds(20), now).isOlderThan(second));
    assertFalse(first.isOlderThan(first));
  }

  @Test
  void versionOneCertificatesStillDecodeAndVerifyAsSerialZero() {
    byte[] key = new byte[32];
    byte[] body = NodeCertificate.body(1, "old", key, 0, 0, now.plusSeconds(60).getEpochSecond());
    NodeCertificate v1 = NodeCertificate.of(1, "old", key, 0, Instant.EPOCH, now.plusSeconds(60), root.sign(body));
    NodeCertificate back = NodeCertificate.decode(v1.encode());
    assertEquals(1, back.encode()[0]);
    assertEquals(0, back.serial());
    assertTrue(root.trust().verify(back, now));
    assertTrue(back.isOlderThan(root.certify("old", key, 1, now, now.plusSeconds(60))));
  }

  @Test
  void expiredForgedOrForeignCertificatesFail() {
    NodeCertificate c = root.certify("worker-1", new byte[32], 7, now, now.plusSeconds(3600));
    assertFalse(root.trust().verify(c, now.plusSeconds(3601)));
    assertFalse(RootAuthority.generate().trust().verify(c, now));
    byte[] tampered = c.encode();
    tampered[3] ^= 1; // a byte of the node id
    assertFalse(root.trust().verify(NodeCertificate.decode(tampered), now));
  }

  @Test
  void malformedCertificatesAreRejectedWithoutSurprises() {
    byte[] enc = root.certify("n", new byte[32], 1, now, now).encode();
    for (int len = 0; len < enc.length; len++) {
      byte[] cut = java.util.Arrays.copyOf(enc, len);
      assertThrows(IllegalArgumentException.class, () -> NodeCertificate.decode(cut));
    }
    assertFalse(root.trust().verify("m".getBytes(StandardCharsets.UTF_8), new byte[3]));
  }
}
