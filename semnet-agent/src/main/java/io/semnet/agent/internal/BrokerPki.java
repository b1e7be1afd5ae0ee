package io.semnet.agent.internal;

import io.semnet.control.OrchestrationService;
import io.semnet.mqtt.internal.MosquittoAcl;
import io.semnet.resolver.enrol.Enrolment;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code controller certs init DIR}: a control plane's broker configuration made with the real
 * {@code openssl}: a CA (EC P-256), the broker's server certificate for the given IPs/DNS names,
 * client certificates (CN = id) for the root, every cluster manager, the shared enrolment-only
 * identity and the operator ({@code orchestrator}), the operator's Ed25519 signing key, the
 * mosquitto ACL ({@link MosquittoAcl#forControlPlane}) and a {@code mosquitto.conf} that requires a
 * client certificate on a TLS listener. Private keys are mode 0600; a directory already holding a
 * CA is refused (no silent re-keying).
 */
public final class BrokerPki {
  /** CN of the operator's MQTT identity (token create, deploy). */
  public static final String OPERATOR = "orchestrator";
  /** CN of the shared enrolment-only identity. */
  public static final String ENROL_USER = "semnet-enrol";

  private final Path dir;
  private final int days;

  private BrokerPki(Path dir, int days) {
    this.dir = dir;
    this.days = days;
  }

  /**
   * Writes everything into {@code dir} (created if missing).
   *
   * @param hosts IP addresses or DNS names the broker's certificate is valid for
   * @param port the TLS listener's port in {@code mosquitto.conf}
   * @param listenAddress the listener's address, or null for every interface
   */
  public static List<Path> init(Path dir, List<String> hosts, List<String> clusters, int port, String listenAddress, int days,
      String topicPrefix)
      throws IOException {
    Files.createDirectories(dir);
    if (Files.exists(dir.resolve("ca.crt"))) {
      throw new IllegalStateException(dir + " already holds a CA (ca.crt); remove it or choose another directory");
    }
    BrokerPki p = new BrokerPki(dir, days);
    p.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
        "-out", "ca.crt", "-days", Integer.toString(days), "-subj", "/CN=semnet-mqtt-ca");
    StringBuilder san = new StringBuilder("subjectAltName=");
    for (int i = 0; i < hosts.size(); i++) {
      String h = hosts.get(i);
      san.append(i == 0 ? "" : ",").append(h.matches("[0-9.]+|.*:.*") ? "IP:" : "DNS:").append(h);
    }
    p.sign("broker", "mosquitto", san + "\nextendedKeyUsage=serverAuth\n");
    List<String> clients = new ArrayList<>();
    clients.add(Controller.ROOT_ID);
    clients.addAll(clusters);
    clients.add(ENROL_USER);
    clients.add(OPERATOR);
    for (String c : clients) {
      p.sign(c, c, "extendedKeyUsage=clientAuth\n");
    }
    Connections.writeOrchestratorKey(dir.resolve(OPERATOR + "-signing.key"), dir.resolve(OPERATOR + "-signing.pub"));
    Files.writeString(dir.resolve("acl"), MosquittoAcl.forControlPlane(topicPrefix, clusters, Controller.ROOT_ID,
        Enrolment.DEFAULT_SERVICE_ID, OrchestrationService.DEFAULT_ID, ENROL_USER));
    Path abs = dir.toAbsolutePath();
    Files.writeString(dir.resolve("mosquitto.conf"), "# SemNet control plane broker: TLS with a client certificate on every connection\n"
        + "listener " + port + (listenAddress == null ? "" : " " + listenAddress) + "\n"
        + "cafile " + abs.resolve("ca.crt") + "\n"
        + "certfile " + abs.resolve("broker.crt") + "\n"
        + "keyfile " + abs.resolve("broker.key") + "\n"
        + "require_certificate true\n"
        + "use_identity_as_username true\n"
        + "use_username_as_clientid true\n"
        + "allow_anonymous false\n"
        + "acl_file " + abs.resolve("acl") + "\n"
        + "persistence false\n");
    List<Path> written = new ArrayList<>();
    try (var s = Files.list(dir)) {
      for (Path f : (Iterable<Path>) s::iterator) {
        String name = f.getFileName().toString();
        if (name.endsWith(".csr") || name.endsWith(".ext") || name.endsWith(".srl")) {
          Files.delete(f);
        } else {
          Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(name.endsWith(".key") ? "rw-------" : "rw-r--r--"));
          written.add(f);
        }
      }
    }
    written.sort(null);
    return written;
  }

  private void sign(String file, String cn, String ext) throws IOException {
    Files.writeString(dir.resolve(file + ".ext"), ext);
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", file + ".key",
        "-out", file + ".csr", "-subj", "/CN=" + cn);
    openssl("x509", "-req", "-in", file + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", file + ".crt",
        "-days", Integer.toString(days), "-extfile", file + ".ext");
  }

  private void openssl(String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add("openssl");
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IOException("openssl " + String.join(" ", args) + " failed: " + out);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }
}
