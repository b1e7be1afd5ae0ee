package io.semnet.agent.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The YAML files (the examples in dist/ included), their defaults and what {@code check()} refuses. */
class ConfigTest {
  private static final Path DIST = Path.of("dist");

  @Test
  void theExampleFilesReadWithTheDocumentedDefaults() {
    AgentConfig a = ConfigValues.read(DIST.resolve("node.yaml"), AgentConfig.class).check();
    assertEquals("w1", a.nodeId);
    assertEquals("semnet-enrol", a.broker.enrolUser);
    assertEquals("semnet", a.broker.topicPrefix);
    assertTrue(a.broker.verifyHostname);
    assertEquals(1500, a.tunnel.underlayMtu);
    assertNull(a.node.namespace);
    assertEquals("snbr", a.node.bridge);
    assertEquals("sn0", a.node.tun);
    assertTrue(a.node.antiSpoofing);
    assertEquals("127.0.0.1:9180", a.admin.bind);
    assertEquals("info", a.logLevel);
    ControllerConfig c = ConfigValues.read(DIST.resolve("controller.yaml"), ControllerConfig.class).check();
    assertEquals("journal", c.store.type);
    assertEquals("24h", c.certificateValidity);
    assertEquals("60s", c.enrolmentRetryWindow);
    assertEquals("127.0.0.1:9181", c.admin.bind);
  }

  @Test
  void mistakesAreNamed(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("node.yaml");
    Files.writeString(f, "nodeId: w1\nbrokr: {uri: ssl://x:1}\n");
    IllegalArgumentException typo = assertThrows(IllegalArgumentException.class, () -> ConfigValues.read(f, AgentConfig.class));
    assertTrue(typo.getMessage().contains("brokr"), typo.getMessage());

    Files.writeString(f, "nodeId: w1\nbroker: {uri: \"tcp://127.0.0.1:1883\"}\ntunnel: {advertise: \"10.0.0.1:51820\"}\n");
    IllegalArgumentException plain = assertThrows(IllegalArgumentException.class, () -> ConfigValues.read(f, AgentConfig.class).check());
    assertTrue(plain.getMessage().contains("insecurePlaintext"), plain.getMessage());
    Files.writeString(f, "nodeId: w1\nbroker: {uri: \"tcp://127.0.0.1:1883\", insecurePlaintext: true}\ntunnel: {advertise: \"10.0.0.1:51820\"}\n");
    ConfigValues.read(f, AgentConfig.class).check();

    Files.writeString(f, "broker: {uri: \"ssl://127.0.0.1:8883\"}\n");
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> ConfigValues.read(f, AgentConfig.class).check());
    assertTrue(missing.getMessage().contains("nodeId") && missing.getMessage().contains("tunnel.advertise")
        && missing.getMessage().contains("caFile"), missing.getMessage());

    Path c = tmp.resolve("controller.yaml");
    Files.writeString(c, "broker: {uri: \"ssl://127.0.0.1:8883\", caFile: ca, identityDir: d}\nstore: {type: postgres}\n");
    IllegalArgumentException ctl = assertThrows(IllegalArgumentException.class, () -> ConfigValues.read(c, ControllerConfig.class).check());
    assertTrue(ctl.getMessage().contains("jdbcUrl") && ctl.getMessage().contains("orchestratorKeys"), ctl.getMessage());
  }

  @Test
  void durationsAndAddresses() {
    assertEquals(Duration.ofSeconds(90), ConfigValues.duration("x", "90s"));
    assertEquals(Duration.ofMinutes(5), ConfigValues.duration("x", "5m"));
    assertEquals(Duration.ofHours(24), ConfigValues.duration("x", "24h"));
    assertEquals(Duration.ofDays(7), ConfigValues.duration("x", "7d"));
    assertEquals(Duration.ofMillis(250), ConfigValues.duration("x", "250ms"));
    assertEquals(Duration.ofHours(1), ConfigValues.duration("x", "PT1H"));
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> ConfigValues.duration("ttl", "soon"));
    assertTrue(bad.getMessage().startsWith("ttl:"), bad.getMessage());
    assertEquals(new InetSocketAddress("10.0.0.1", 51820), ConfigValues.address("x", "10.0.0.1:51820"));
    assertEquals(51820, ConfigValues.address("x", "[fd00::1]:51820").getPort());
    assertThrows(IllegalArgumentException.class, () -> ConfigValues.address("x", "broker.example:8883"));
    assertThrows(IllegalArgumentException.class, () -> ConfigValues.address("x", "10.0.0.1"));
  }
}
