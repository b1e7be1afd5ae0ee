package io.semnet.tunnel.internal.handshake;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.semnet.core.trust.NodeCertificate;
import io.semnet.core.trust.RevokedCertificate;
import io.semnet.core.trust.RootAuthority;
import io.semnet.tunnel.internal.noise.Handshake.Drop;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/**
 * The responder's certificate decoder and checks ({@link CertificateCheck}, {@code
 * NodeCertificate.decode} in formats 1 and 2) on arbitrary bytes, as if they had arrived in a valid
 * Noise payload (the harness skips Noise, so the fuzzer reaches the parser): never throws, and
 * accepts only a certificate that the root really signed for the presented key, unexpired and not
 * revoked. Normal runs replay {@code src/test/resources/.../CertificateCheckFuzzTestInputs}; fuzz
 * with {@code JAZZER_FUZZ=1 mvn -pl semnet-core,semnet-tunnel -am verify -Dtest='CertificateCheckFuzzTest#decode'}.
 */
class CertificateCheckFuzzTest {
  private static final RootAuthority ROOT = RootAuthority.generate();
  private static final Revocations REVOKED = new Revocations();

  static {
    REVOKED.certificates(List.of(RevokedCertificate.of(5, "gone", new byte[32], Instant.now().plusSeconds(3600))));
  }

  private final CertificateCheck check = new CertificateCheck("self", ROOT.trust(), REVOKED, Clock.systemUTC(), System::nanoTime, 1e9);

  @FuzzTest(maxDuration = "60s")
  void decode(byte[] data) {
    // the static key the initiator proved in Noise: taken from the certificate if it parses, so the fuzzer can reach the signature check
    byte[] key = new byte[32];
    NodeCertificate parsed = null;
    try {
      parsed = NodeCertificate.decode(data);
      key = parsed.publicKey();
    } catch (IllegalArgumentException expected) {
      // malformed: the check must refuse it as BAD_CERTIFICATE
    }
    Drop d = check.check(key, data);
    if (d == null) {
      if (parsed == null || !ROOT.trust().verify(parsed, Instant.now()) || !Arrays.equals(key, parsed.publicKey())
          || (parsed.nodeId().equals("gone") && parsed.serial() <= 5) || parsed.nodeId().equals("self")) {
        throw new AssertionError("accepted " + parsed);
      }
    }
  }
}
