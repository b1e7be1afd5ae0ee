package io.semnet.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Client certificates written by hand in DER: the JDK parses and verifies them, and so does openssl. */
class X509CertificateIssuerTest {
  @Test
  void issuesClientCertificatesThatTheJdkAndOpensslAccept(@TempDir Path dir) throws Exception {
    KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
    ec.initialize(256);
    KeyPair ca = ec.generateKeyPair();
    Instant now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    X509Certificate caCert = X509CertificateIssuer.selfSignedCa("semnet-ca", ca, now.minusSeconds(60), now.plus(Duration.ofDays(365)));
    X509CertificateIssuer issuer = new X509CertificateIssuer(ca.getPrivate(), caCert);
    KeyPair node = ec.generateKeyPair();

    byte[] der = issuer.issue("worker-17", node.getPublic().getEncoded(), now, now.plus(Duration.ofHours(24)));
    X509Certificate c = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
    c.verify(caCert.getPublicKey());
    assertEquals("CN=worker-17", c.getSubjectX500Principal().getName());
    assertEquals(caCert.getSubjectX500Principal(), c.getIssuerX500Principal());
    assertEquals(now.plus(Duration.ofHours(24)), c.getNotAfter().toInstant());
    assertEquals(now, c.getNotBefore().toInstant());
    assertEquals(List.of("1.3.6.1.5.5.7.3.2"), c.getExtendedKeyUsage());
    assertEquals(-1, c.getBasicConstraints());
    assertTrue(issuer.issued(der, node.getPublic()));
    assertFalse(issuer.issued(der, ec.generateKeyPair().getPublic()));
    byte[] other = issuer.issue("worker-17", node.getPublic().getEncoded(), now, now.plus(Duration.ofHours(24)));
    X509Certificate c2 = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(other));
    assertFalse(c.getSerialNumber().equals(c2.getSerialNumber()));
    assertThrows(IllegalArgumentException.class, () -> issuer.issue("x", new byte[] {1, 2}, now, now.plusSeconds(5)));

    Path caPem = dir.resolve("ca.pem");
    Path leafPem = dir.resolve("leaf.pem");
    Files.writeString(caPem, pem(caCert.getEncoded()));
    Files.writeString(leafPem, pem(der));
    Process p = new ProcessBuilder("openssl", "verify", "-purpose", "sslclient", "-CAfile", caPem.toString(), leafPem.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), out);
    assertTrue(out.contains(": OK"), out);
  }

  private static String pem(byte[] der) {
    return "-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END CERTIFICATE-----\n";
  }
}
