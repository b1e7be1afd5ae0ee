package io.semnet.agent;

import io.semnet.agent.internal.BrokerPki;
import io.semnet.agent.internal.ClientIdentity;
import io.semnet.agent.internal.Connections;
import io.semnet.agent.internal.ConfigValues;
import io.semnet.agent.internal.Controller;
import io.semnet.agent.internal.ControllerConfig;
import io.semnet.control.RemoteOrchestration;
import io.semnet.mqtt.MqttTransport;
import io.semnet.resolver.enrol.JoinToken;
import io.semnet.resolver.transport.TransportException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code java -jar semnet-agent-VERSION-controller.jar --config controller.yaml}: runs the root and
 * cluster managers, enrolment and the orchestration API over MQTT until SIGTERM. {@code token create}
 * issues a join token through the running controller; {@code certs init DIR} writes a broker's CA,
 * certificates, ACL and mosquitto.conf. Exit codes: 0 done, 1 refused or failed, 2 bad usage.
 */
@Command(name = "semnet-controller", mixinStandardHelpOptions = true, version = "semnet-controller 0.1.0",
    description = "Runs the SemNet control plane: the root manager with its durable store, the cluster managers, "
        + "the enrolment service and the orchestration API, over MQTT with TLS; serves /health until SIGTERM.",
    subcommands = {ControllerMain.Token.class, ControllerMain.Certs.class})
public final class ControllerMain implements Callable<Integer> {
  @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "controller.yaml (see the README for every key and default)")
  Path config;

  public static void main(String[] args) {
    System.exit(Logging.commandLine(new ControllerMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (config == null) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--config is required");
    }
    ControllerConfig c = ConfigValues.read(config, ControllerConfig.class);
    Logging.configure(c.logLevel);
    Controller controller = Controller.start(c);
    Logging.runUntilTerminated(controller);
    return 0;
  }

  @Command(name = "token", mixinStandardHelpOptions = true, description = "Join tokens.", subcommands = Token.Create.class)
  static final class Token {
    @Command(name = "create", mixinStandardHelpOptions = true,
        description = "Issues a join token at the running controller (as the operator, over MQTT, signed with the "
            + "orchestrator key) and prints it with the root key hash a node pins.")
    static final class Create implements Callable<Integer> {
      @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "controller.yaml (broker and identities)")
      Path config;
      @Option(names = "--ttl", defaultValue = "1h", paramLabel = "DURATION", description = "lifetime, e.g. 15m, 24h (default ${DEFAULT-VALUE}, at most 7d)")
      String ttl;
      @Option(names = "--reusable", description = "may enrol several nodes until it expires (default: one-time)")
      boolean reusable;
      @Option(names = "--once", description = "one-time (the default)")
      boolean once;
      @Option(names = "--cluster", paramLabel = "ID", description = "the cluster manager nodes join (default: the first configured)")
      String cluster;
      @Option(names = "--identity", defaultValue = BrokerPki.OPERATOR, paramLabel = "NAME",
          description = "MQTT identity: identityDir/NAME.crt|.key (default ${DEFAULT-VALUE})")
      String identity;
      @Option(names = "--key", paramLabel = "FILE", description = "orchestrator signing key (default identityDir/orchestrator-signing.key)")
      Path key;

      @Override
      public Integer call() throws Exception {
        if (reusable && once) {
          throw new CommandLine.ParameterException(new CommandLine(this), "--once and --reusable exclude each other");
        }
        ControllerConfig c = ConfigValues.read(config, ControllerConfig.class).check();
        Logging.configure("warn");
        ControllerConfig.Broker b = c.broker;
        ClientIdentity id = b.insecurePlaintext ? null
            : ClientIdentity.fromFiles(Path.of(b.identityDir, identity + ".crt"), Path.of(b.identityDir, identity + ".key"));
        Path keyFile = key != null ? key : Path.of(b.identityDir, BrokerPki.OPERATOR + "-signing.key");
        try (MqttTransport t = Connections.mqtt(b.uri, identity, b.caFile == null ? null : Path.of(b.caFile), id,
            b.insecurePlaintext, b.verifyHostname, b.topicPrefix);
            RemoteOrchestration o = RemoteOrchestration.builder().transport(t).clientId(identity)
                .key(Connections.orchestratorKey(keyFile)).build()) {
          JoinToken token = null;
          for (int i = 0; token == null; i++) {
            try {
              token = o.issueJoinToken(cluster != null ? cluster : c.clusters.get(0), ConfigValues.duration("--ttl", ttl), !reusable);
            } catch (TransportException e) {
              if (i >= 40) {
                throw e;
              }
              Thread.sleep(250); // the orchestration service's presence may not have arrived yet
            }
          }
          System.out.println("token: " + token.token());
          System.out.println("root-key-hash: " + token.rootKeyHash());
          System.out.println("cluster: " + token.clusterId());
          System.out.println("expires: " + token.expiresAt());
          System.out.println("one-time: " + token.oneTime());
        }
        return 0;
      }
    }
  }

  @Command(name = "certs", mixinStandardHelpOptions = true, description = "Broker PKI.", subcommands = Certs.Init.class)
  static final class Certs {
    @Command(name = "init", mixinStandardHelpOptions = true,
        description = "Writes into DIR (with openssl): ca.crt/.key, broker.crt/.key, client certificates root, <clusters>, "
            + "semnet-enrol and orchestrator, the orchestrator's signing key, the broker's ACL and mosquitto.conf "
            + "(TLS, client certificate required).")
    static final class Init implements Callable<Integer> {
      @Parameters(index = "0", paramLabel = "DIR", description = "output directory (must not hold a CA yet)")
      Path dir;
      @Option(names = "--host", paramLabel = "IP|NAME", split = ",", defaultValue = "127.0.0.1",
          description = "addresses/names in the broker's certificate (default ${DEFAULT-VALUE})")
      List<String> hosts;
      @Option(names = "--cluster", paramLabel = "ID", split = ",", defaultValue = "c1", description = "cluster manager ids (default ${DEFAULT-VALUE})")
      List<String> clusters;
      @Option(names = "--port", defaultValue = "8883", description = "TLS listener port (default ${DEFAULT-VALUE})")
      int port;
      @Option(names = "--listen", paramLabel = "IP", description = "the listener's address (default: every interface)")
      String listen;
      @Option(names = "--days", defaultValue = "825", description = "certificate lifetime in days (default ${DEFAULT-VALUE})")
      int days;
      @Option(names = "--topic-prefix", defaultValue = "semnet", description = "MQTT topic prefix (default ${DEFAULT-VALUE})")
      String prefix;

      @Override
      public Integer call() throws Exception {
        for (Path p : BrokerPki.init(dir, hosts, clusters, port, listen, days, prefix)) {
          System.out.println(p);
        }
        return 0;
      }
    }
  }
}
