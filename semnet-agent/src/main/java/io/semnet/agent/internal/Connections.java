package io.semnet.agent.internal;

import io.semnet.control.OrchestratorKey;
import io.semnet.mqtt.MqttTransport;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control-plane connections of both processes: an {@link MqttTransport} over TLS with a client
 * certificate (or, only when asked, plaintext with a warning), and orchestrator signing keys in
 * their PEM file (a {@code PRIVATE KEY} and a {@code PUBLIC KEY} block, mode 0600). Stateless.
 */
public final class Connections {
  private static final Logger log = LoggerFactory.getLogger(Connections.class);

  private Connections() {}

  /**
   * A started transport as {@code clientId} (its certificate's CN), not waiting for the broker.
   *
   * @param identity the TLS client identity; ignored with {@code plaintext}
   */
  public static MqttTransport mqtt(String uri, String clientId, Path caFile, ClientIdentity identity, boolean plaintext,
      boolean verifyHostname, String topicPrefix) {
    return mqtt(uri, clientId, caFile, identity, plaintext, verifyHostname, topicPrefix, Duration.ofMillis(100));
  }

  /** As above, reconnecting no sooner than {@code reconnectMin} after a lost connection. */
  public static MqttTransport mqtt(String uri, String clientId, Path caFile, ClientIdentity identity, boolean plaintext,
      boolean verifyHostname, String topicPrefix, Duration reconnectMin) {
    MqttTransport.Builder b = MqttTransport.builder().brokerUri(uri).clientId(clientId).topicPrefix(topicPrefix)
        .reconnectDelay(reconnectMin, reconnectMin.compareTo(Duration.ofSeconds(5)) > 0 ? reconnectMin : Duration.ofSeconds(5));
    if (plaintext) {
      log.warn("MQTT to {} as '{}' is PLAINTEXT without client certificates (insecurePlaintext): anybody on the path "
          + "can read and forge control messages; use it in a lab only", uri, clientId);
    } else {
      b.tls(Pem.tls(caFile, identity)).verifyHostname(verifyHostname);
    }
    return b.build();
  }

  /** Reads an orchestrator key file written by {@link #writeOrchestratorKey}. */
  public static OrchestratorKey orchestratorKey(Path file) {
    try {
      KeyFactory f = KeyFactory.getInstance("Ed25519");
      return OrchestratorKey.of(new KeyPair(
          f.generatePublic(new X509EncodedKeySpec(Pem.blocks(file, "PUBLIC KEY").get(0))),
          f.generatePrivate(new PKCS8EncodedKeySpec(Pem.blocks(file, "PRIVATE KEY").get(0)))));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(file + " holds no Ed25519 orchestrator key", e);
    }
  }

  /** A new Ed25519 orchestrator key: {@code keyFile} (private and public, 0600) and {@code publicFile}. */
  public static void writeOrchestratorKey(Path keyFile, Path publicFile) throws IOException {
    KeyPair pair;
    try {
      pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 is not available", e);
    }
    String pub = Pem.encode("PUBLIC KEY", pair.getPublic().getEncoded());
    Pem.writePrivate(keyFile, Pem.encode("PRIVATE KEY", pair.getPrivate().getEncoded()) + pub);
    java.nio.file.Files.writeString(publicFile, pub);
  }
}
