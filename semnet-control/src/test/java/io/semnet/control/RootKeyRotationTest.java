package io.semnet.control;

import static io.semnet.control.ControlPlaneBehaviourTest.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.control.store.RootStore;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.Resolution;
import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RootAuthority;
import io.semnet.core.trust.RootTrust;
import io.semnet.resolver.NodeRegistration;
import io.semnet.resolver.RecordVerifier;
import io.semnet.resolver.WorkerResolver;
import io.semnet.resolver.protocol.SignedRecord;
import io.semnet.resolver.transport.InProcessTransport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15 item 4, key handling: the root key comes from an operator's file (mode 0600, as
 * {@code openssl genpkey -algorithm ed25519} writes it); rotation with an overlap: nodes configured
 * with the new key and the previous one until a time accept both while the root switches, and the
 * previous key no longer after the overlap.
 */
class RootKeyRotationTest {
  @TempDir Path dir;

  @Test
  void keyFileMustBeOwnerOnlyAndOpensslKeysLoad() throws Exception {
    Path key = dir.resolve("root.key");
    Process p = new ProcessBuilder("openssl", "genpkey", "-algorithm", "ed25519", "-out", key.toString()).redirectErrorStream(true).start();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, new String(p.getInputStream().readAllBytes()));
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> RootKeyFile.load(key));
    assertTrue(e.getMessage().contains("chmod 600"), e.getMessage());
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    RootAuthority a = RootKeyFile.load(key);
    byte[] msg = "hello".getBytes(StandardCharsets.UTF_8);
    assertTrue(a.trust().verify(msg, a.sign(msg)), "the derived public key matches the private key");
    assertEquals(a.trust(), RootKeyFile.load(key).trust(), "every root process loads the same identity");
    // openssl derives the same public key
    Process pub = new ProcessBuilder("openssl", "pkey", "-in", key.toString(), "-pubout", "-outform", "DER").start();
    byte[] der = pub.getInputStream().readAllBytes();
    assertTrue(pub.waitFor(30, TimeUnit.SECONDS) && pub.exitValue() == 0);
    assertEquals(RootTrust.of(der), a.trust());

    Path gen = dir.resolve("gen.key");
    RootAuthority g = RootKeyFile.generate(gen);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(gen)));
    assertEquals(g.trust(), RootKeyFile.load(gen).trust());
  }

  @Test
  void rotationWithOverlap() throws Exception {
    RootAuthority oldKey = RootKeyFile.generate(dir.resolve("old.key"));
    RootAuthority newKey = RootKeyFile.generate(dir.resolve("new.key"));
    RootTrust rotating = newKey.trust().withPrevious(oldKey.trust(), Instant.now().plus(Duration.ofHours(1)));
    Path journal = dir.resolve("root.journal");
    try (InProcessTransport t = InProcessTransport.create()) {
      ServiceManager root1 = root(t, oldKey, journal, 0);
      ServiceManager c1 = ServiceManager.cluster().id("c1").upstream("root").transport(t).rootTrust(rotating)
          .policyRegistry(TestPolicies.registry()).requestTimeout(Duration.ofSeconds(1))
          .maintenanceInterval(Duration.ofMillis(200)).build();
      await(c1::isUpstreamOnline, "c1 online");
      Orchestration o = root1.orchestration();
      NodeRegistration w1 = o.registerNode("c1", ControlPlaneBehaviourTest.endpoint("w1"), null);
      NodeRegistration n2 = o.registerNode("c1", ControlPlaneBehaviourTest.endpoint("n2"), null);
      deployOn(o, ServiceId.of("app", "a", "client", "prod"), w1);
      ServiceRecord api = deployOn(o, ServiceId.of("app", "a", "api", "prod"), n2);
      WorkerResolver w = WorkerResolver.builder().nodeId("w1").manager("c1").transport(t).rootTrust(rotating)
          .requestTimeout(Duration.ofSeconds(2)).maintenanceInterval(Duration.ofMillis(200)).renewInterval(Duration.ofMillis(500))
          .build().start();
      try {
        await(w::isOnline, "worker online");
        assertTrue(resolve(w, api).isFound(), "records signed by the old key accepted");

        // The root switches to the new key (every root process restarts with it, one after the other).
        root1.close();
        ServiceManager root2 = root(t, newKey, journal, 1);
        ServiceRecord api2 = deployOn(root2.orchestration(), ServiceId.of("app", "a", "api2", "prod"), n2);
        await(() -> {
          try {
            return resolve(w, api2).isFound();
          } catch (Exception e) {
            return false;
          }
        }, "a record signed by the new key resolves");
        assertTrue(resolve(w, api).isFound(), "what the old key signed still resolves during the overlap");
        root2.close();
      } finally {
        w.close();
        c1.close();
      }
    }
    // Only the new key after the overlap; and a node that still has only the old key refuses the new one.
    RootTrust after = newKey.trust().withPrevious(oldKey.trust(), Instant.now().minusSeconds(1));
    ServiceRecord r = ServiceRecord.of(ServiceId.of("app", "a", "x", "prod"), 1, java.util.List.of(), java.util.List.of());
    assertTrue(RecordVerifier.of(rotating).verify(SignedRecord.sign(r, oldKey)));
    assertTrue(RecordVerifier.of(rotating).verify(SignedRecord.sign(r, newKey)));
    assertFalse(RecordVerifier.of(after).verify(SignedRecord.sign(r, oldKey)), "the overlap is over");
    assertTrue(RecordVerifier.of(after).verify(SignedRecord.sign(r, newKey)));
    assertFalse(RecordVerifier.of(oldKey.trust()).verify(SignedRecord.sign(r, newKey)));
  }

  private static ServiceManager root(InProcessTransport t, RootAuthority key, Path journal, long epoch) {
    return ServiceManager.root().id("root").transport(t).authority(key).plan(ControlPlaneBehaviourTest.PLAN)
        .policyRegistry(TestPolicies.registry()).platformPolicies(Set.of("first")).store(RootStore.journal(journal))
        .rootEpoch(epoch).maintenanceInterval(Duration.ofMillis(200)).build();
  }

  private static ServiceRecord deployOn(Orchestration o, ServiceId s, NodeRegistration node) {
    o.deploy(ServiceDescriptor.builder(s).instances(1).build());
    return o.placeInstance(s, 0, Locator.of(node.subnetV4().addressAt(2 + Math.abs(s.hashCode() % 50)), null, node.endpoint(), 0));
  }

  private static Resolution resolve(WorkerResolver w, ServiceRecord r) throws Exception {
    return w.resolve(r.serviceIp("first", true).address()).toCompletableFuture().get(5, TimeUnit.SECONDS);
  }
}
