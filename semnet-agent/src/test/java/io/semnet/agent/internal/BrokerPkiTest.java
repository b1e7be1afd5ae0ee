package io.semnet.agent.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.control.OrchestratorKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code certs init}: what it writes, with which modes, and that the pieces fit together. */
class BrokerPkiTest {
  @Test
  void writesACaCertificatesKeysAclAndConfig(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("pki");
    List<Path> files = BrokerPki.init(dir, List.of("127.0.0.1", "broker.example"), List.of("c1", "c2"), 8883, null, 2, "semnet");
    for (String f : List.of("ca.crt", "ca.key", "broker.crt", "root.crt", "c1.key", "c2.crt", "semnet-enrol.crt", "orchestrator.key",
        "orchestrator-signing.key", "orchestrator-signing.pub", "acl", "mosquitto.conf")) {
      assertTrue(files.contains(dir.resolve(f)), f + " in " + files);
    }
    for (Path f : files) {
      String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(f));
      assertEquals(f.toString().endsWith(".key") ? "rw-------" : "rw-r--r--", mode, f.toString());
    }
    X509Certificate ca = Pem.certificates(dir.resolve("ca.crt")).get(0);
    X509Certificate broker = Pem.certificates(dir.resolve("broker.crt")).get(0);
    broker.verify(ca.getPublicKey());
    assertTrue(broker.getSubjectAlternativeNames().toString().contains("broker.example"));
    ClientIdentity c1 = ClientIdentity.fromFiles(dir.resolve("c1.crt"), dir.resolve("c1.key"));
    c1.certificate().verify(ca.getPublicKey());
    assertEquals("CN=c1", c1.certificate().getSubjectX500Principal().getName());

    OrchestratorKey key = Connections.orchestratorKey(dir.resolve("orchestrator-signing.key"));
    assertTrue(java.util.Arrays.equals(key.publicKey(), Pem.publicKey(dir.resolve("orchestrator-signing.pub"), "Ed25519").getEncoded()),
        "the .pub is the signing key's");

    String conf = Files.readString(dir.resolve("mosquitto.conf"));
    assertTrue(conf.contains("listener 8883\n") && conf.contains("require_certificate true") && conf.contains("allow_anonymous false"), conf);
    String acl = Files.readString(dir.resolve("acl"));
    assertTrue(acl.contains("user semnet-enrol") && acl.contains("user c2") && acl.contains("user root"), acl);

    IllegalStateException again = assertThrows(IllegalStateException.class,
        () -> BrokerPki.init(dir, List.of("127.0.0.1"), List.of("c1"), 8883, null, 2, "semnet"));
    assertTrue(again.getMessage().contains("already holds a CA"));
  }
}
