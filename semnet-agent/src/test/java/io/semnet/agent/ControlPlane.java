package io.semnet.agent;

import io.semnet.agent.internal.BrokerPki;
import io.semnet.agent.internal.ClientIdentity;
import io.semnet.agent.internal.Connections;
import io.semnet.control.RemoteOrchestration;
import io.semnet.mqtt.MqttTransport;
import io.semnet.resolver.transport.TransportException;
import io.semnet.testing.TestNetwork;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;

/**
 * A test's control plane as an operator sets it up: {@code certs init} output (plus extra ACL
 * lines), mosquitto with TLS on a free loopback port (killed with the test network), the
 * controller as its own JVM (healthy before {@link #start} returns), and the operator's
 * {@link RemoteOrchestration}. Agents' {@code node.yaml} files come from {@link #agentYaml}.
 */
final class ControlPlane {
  final Path dir;
  final Path pki;
  final int mqttPort;
  final Path controllerYaml;
  final int controllerAdmin;
  Process controller;
  private final TestNetwork net;
  private Process broker;

  private ControlPlane(Path dir, TestNetwork net, Launcher procs, String aclExtra, String controllerExtra) throws Exception {
    this.dir = dir;
    this.net = net;
    this.pki = dir.resolve("pki");
    this.mqttPort = Launcher.freePort();
    BrokerPki.init(pki, List.of("127.0.0.1"), List.of("c1"), mqttPort, "127.0.0.1", 1, "semnet");
    Files.writeString(pki.resolve("acl"), Files.readString(pki.resolve("acl")) + aclExtra);
    Files.writeString(pki.resolve("mosquitto.conf"), Files.readString(pki.resolve("mosquitto.conf")) + "user root\nlog_dest stdout\n");
    startBroker();
    this.controllerYaml = dir.resolve("controller.yaml");
    this.controllerAdmin = Launcher.freePort();
    Files.writeString(controllerYaml, "stateDir: " + dir.resolve("ctl") + "\nbroker:\n  uri: ssl://127.0.0.1:" + mqttPort
        + "\n  caFile: " + pki.resolve("ca.crt") + "\n  caKeyFile: " + pki.resolve("ca.key") + "\n  identityDir: " + pki
        + "\norchestratorKeys: [" + pki.resolve("orchestrator-signing.pub") + "]\nadmin: {bind: \"127.0.0.1:" + controllerAdmin + "\"}\n"
        + controllerExtra);
    startController(procs, "controller");
  }

  /** Starts the controller (again) with the same configuration and waits until it is healthy. */
  void startController(Launcher procs, String name) throws Exception {
    controller = procs.start(name, ControllerMain.class, "--config", controllerYaml.toString());
    Launcher.waitFor(() -> Launcher.get("http://127.0.0.1:" + controllerAdmin + "/health").code() == 200, 60,
        () -> "controller healthy: " + procs.read(name));
  }

  static ControlPlane start(Path dir, TestNetwork net, Launcher procs, String aclExtra, String controllerExtra) throws Exception {
    return new ControlPlane(dir, net, procs, aclExtra, controllerExtra);
  }

  /** Starts mosquitto (again) on the same port and configuration. */
  void startBroker() throws InterruptedException {
    Process b = net.start(null, "mosquitto", "-c", pki.resolve("mosquitto.conf").toString());
    Launcher.waitFor(() -> Launcher.listening(mqttPort) || !b.isAlive(), 10, () -> "mosquitto listening");
    if (!b.isAlive()) {
      throw new AssertionError("mosquitto exited with " + b.exitValue());
    }
    broker = b;
  }

  void stopBroker() throws InterruptedException {
    Launcher.terminate(broker);
  }

  /** The operator's MQTT connection (close it after the orchestration client). */
  MqttTransport operatorTransport() {
    return Connections.mqtt("ssl://127.0.0.1:" + mqttPort, BrokerPki.OPERATOR, pki.resolve("ca.crt"),
        ClientIdentity.fromFiles(pki.resolve("orchestrator.crt"), pki.resolve("orchestrator.key")), false, true, "semnet");
  }

  RemoteOrchestration operator(MqttTransport transport) {
    return RemoteOrchestration.builder().transport(transport).clientId(BrokerPki.OPERATOR)
        .key(Connections.orchestratorKey(pki.resolve("orchestrator-signing.key"))).build();
  }

  /** A node.yaml for {@code node} in namespace {@code ns}, tunnel on {@code ip}:51820, admin on {@code admin}. */
  Path agentYaml(String node, String ns, String ip, int admin, String token, String hash) throws Exception {
    Path f = dir.resolve(node + ".yaml");
    Files.writeString(f, "nodeId: " + node + "\nstateDir: " + dir.resolve(node) + "\nbroker:\n  uri: ssl://127.0.0.1:" + mqttPort
        + "\n  caFile: " + pki.resolve("ca.crt") + "\n  enrolCertFile: " + pki.resolve("semnet-enrol.crt") + "\n  enrolKeyFile: "
        + pki.resolve("semnet-enrol.key") + "\njoin: {token: \"" + token + "\", rootKeyHash: \"" + hash + "\"}\ntunnel: {advertise: \""
        + ip + ":51820\"}\nnode: {namespace: " + ns + "}\nadmin: {bind: \"127.0.0.1:" + admin + "\"}\norchestrator: {keyFile: "
        + pki.resolve("orchestrator-signing.key") + "}\n");
    return f;
  }

  /** Retries {@code call} while the service's presence has not arrived yet (at most about 10 s). */
  static <T> T retry(Supplier<T> call) throws InterruptedException {
    for (int i = 0; ; i++) {
      try {
        return call.get();
      } catch (TransportException e) {
        if (i > 40) {
          throw e;
        }
        Thread.sleep(250);
      }
    }
  }
}
