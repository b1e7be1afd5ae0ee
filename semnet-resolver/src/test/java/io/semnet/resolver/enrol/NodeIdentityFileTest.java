package io.semnet.resolver.enrol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.IpPrefix;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.trust.RootAuthority;
import io.semnet.resolver.NodeRegistration;
import io.semnet.resolver.protocol.SignedRegistration;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node's identity file: mode 0600, survives a restart, epochs never repeat, tampering detected. */
class NodeIdentityFileTest {
  @Test
  void keepsKeysEnrolmentAndEpochsAcrossARestart(@TempDir Path dir) throws Exception {
    Path p = dir.resolve("node.json");
    NodeIdentityFile f = NodeIdentityFile.open(p);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
    assertNull(f.enrolment());
    byte[] priv = new byte[32];
    byte[] pub = new byte[32];
    priv[0] = 1;
    pub[0] = 2;
    f.saveTunnelKeys(priv, pub);
    assertEquals(1000, f.nextEpoch(1000));
    RootAuthority root = RootAuthority.generate();
    WorkerEndpoint ep = WorkerEndpoint.of("n1", new InetSocketAddress("192.0.2.1", 51820), pub);
    Instant now = Instant.now();
    NodeRegistration reg = new NodeRegistration("n1", "c1", ep, null, IpPrefix.parse("172.16.0.0/26"), null,
        root.certify("n1", pub, now.plusSeconds(3600)));
    f.saveEnrolment(new Enrolled(SignedRegistration.sign(root, 7, now, now.plusSeconds(3600), reg, AddressPlan.defaults()), new byte[] {9}));

    NodeIdentityFile again = NodeIdentityFile.open(p);
    assertArrayEquals(priv, again.tunnelPrivateKey());
    assertArrayEquals(pub, again.tunnelPublicKey());
    assertArrayEquals(f.mqttKeyPair().getPublic().getEncoded(), again.mqttKeyPair().getPublic().getEncoded());
    assertEquals(reg, again.enrolment().registration());
    assertEquals(7, again.enrolment().signedRegistration().serial());
    // the tunnel's last handshake timestamp (TAI64N) survives a restart
    assertNull(again.handshakeTimestamp());
    byte[] ts = {0x40, 0, 0, 0, 0x6a, 0x10, 0x20, 0x30, 0, 0, 0, 5};
    again.saveHandshakeTimestamp(ts);
    assertArrayEquals(ts, NodeIdentityFile.open(p).handshakeTimestamp());
    assertThrows(IllegalArgumentException.class, () -> again.saveHandshakeTimestamp(new byte[11]));
    // the clock stepped back: the epoch still moves forward
    assertEquals(1001, again.nextEpoch(500));
    assertEquals(1001, NodeIdentityFile.open(p).lastEpoch());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));

    String stored = Files.readString(p);
    assertTrue(stored.contains("\\\"c1\\\""), stored); // inside the signed body (a JSON string)
    Files.writeString(p, stored.replace("\\\"c1\\\"", "\\\"c2\\\""));
    assertThrows(IllegalArgumentException.class, () -> NodeIdentityFile.open(p));
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
    IOException open = assertThrows(IOException.class, () -> NodeIdentityFile.open(p));
    assertTrue(open.getMessage().contains("rw-------"), open.getMessage());
  }
}
