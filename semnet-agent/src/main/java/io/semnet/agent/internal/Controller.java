package io.semnet.agent.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semnet.control.EnrolmentService;
import io.semnet.control.OrchestrationService;
import io.semnet.control.RootKeyFile;
import io.semnet.control.ServiceManager;
import io.semnet.control.X509CertificateIssuer;
import io.semnet.control.store.PostgresRootStore;
import io.semnet.control.store.RootStore;
import io.semnet.core.stats.StatsSource;
import io.semnet.core.trust.RootAuthority;
import io.semnet.mqtt.MqttTransport;
import io.semnet.node.admin.AdminResponse;
import io.semnet.metrics.MetricsEndpoint;
import io.semnet.node.admin.AdminServer;
import io.semnet.resolver.enrol.Enrolment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running controller: the root manager (key from {@code <stateDir>/root.key}, generated on the
 * first start; durable store: journal or PostgreSQL, waiting for leadership), its enrolment service
 * (issuing MQTT client certificates with the broker's CA) and orchestration service, and the
 * configured cluster managers, each on its own MQTT connection as itself. {@code /health} on the
 * admin server. {@link #close()} stops everything in reverse order.
 */
public final class Controller implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Controller.class);
  /** The root manager's id on the transport (and its certificate's CN). */
  public static final String ROOT_ID = "root";

  private final ControllerConfig config;
  private final CloseStack started = new CloseStack();
  private final Map<String, MqttTransport> transports = new LinkedHashMap<>();
  private final List<ServiceManager> clusters = new ArrayList<>();
  private ServiceManager root;

  private Controller(ControllerConfig config) {
    this.config = config;
  }

  /** Starts a controller; on failure undoes what it did and throws. */
  public static Controller start(ControllerConfig config) throws Exception {
    Controller c = new Controller(config.check());
    try {
      c.run();
    } catch (Exception | Error e) {
      c.close();
      throw e;
    }
    return c;
  }

  private void run() throws Exception {
    Path state = config.statePath();
    Files.createDirectories(state);
    Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwx------"));
    Path keyFile = state.resolve("root.key");
    RootAuthority key = Files.exists(keyFile) ? RootKeyFile.load(keyFile) : RootKeyFile.generate(keyFile);
    RootStore store;
    long epoch = 0;
    if (config.store.type.equals("postgres")) {
      Properties p = new Properties();
      p.setProperty("user", config.store.user);
      if (config.store.password != null) {
        p.setProperty("password", config.store.password);
      }
      PostgresRootStore pg = PostgresRootStore.connect(config.store.jdbcUrl, p, "controller-" + ProcessHandle.current().pid());
      store = closing(pg);
      log.info("waiting for leadership of the root store");
      epoch = pg.awaitLeadership(Duration.ofDays(3650));
    } else {
      store = RootStore.journal(state.resolve("root.journal"));
    }
    MqttTransport rootNet = transport(ROOT_ID);
    root = closing(ServiceManager.root().id(ROOT_ID).transport(rootNet).authority(key).store(store).rootEpoch(epoch)
        .certificateValidity(ConfigValues.duration("certificateValidity", config.certificateValidity)).build());
    X509CertificateIssuer issuer = null;
    if (config.broker.caKeyFile != null) {
      issuer = new X509CertificateIssuer(Pem.privateKey(Path.of(config.broker.caKeyFile)),
          Pem.certificates(Path.of(config.broker.caFile)).get(0));
    } else if (!config.broker.insecurePlaintext) {
      log.warn("broker.caKeyFile is not set: enrolled nodes get no MQTT client certificate and cannot connect over TLS");
    }
    closing(EnrolmentService.bind(root, rootNet, Enrolment.DEFAULT_SERVICE_ID, issuer,
        ConfigValues.duration("enrolmentRetryWindow", config.enrolmentRetryWindow)));
    OrchestrationService.Builder api = OrchestrationService.builder().orchestration(root.orchestration())
        .nodeEvents(root.nodeEvents()).transport(rootNet);
    for (String f : config.orchestratorKeys) {
      api.trust(Pem.publicKey(Path.of(f), "Ed25519").getEncoded());
    }
    closing(api.build());
    for (String c : config.clusters) {
      clusters.add(closing(ServiceManager.cluster().id(c).upstream(ROOT_ID).transport(transport(c)).rootTrust(key.trust()).build()));
    }
    MetricsEndpoint metrics = closing(new MetricsEndpoint(StatsSource.of(transports.values().toArray(new StatsSource[0]))));
    closing(AdminServer.builder().bind(ConfigValues.address("admin.bind", config.admin.bind))
        .bearerToken(config.admin.bearerToken).endpoint("/health", q -> health()).endpoint("/metrics", metrics).build().start());
    log.info("controller up: root (epoch {}, key {}), clusters {}, store {}", epoch,
        io.semnet.resolver.enrol.JoinToken.rootKeyHash(key.trust()), config.clusters, config.store.type);
  }

  private MqttTransport transport(String id) throws InterruptedException {
    ControllerConfig.Broker b = config.broker;
    ClientIdentity identity = b.insecurePlaintext ? null
        : ClientIdentity.fromFiles(Path.of(b.identityDir, id + ".crt"), Path.of(b.identityDir, id + ".key"));
    MqttTransport t = closing(Connections.mqtt(b.uri, id, b.caFile == null ? null : Path.of(b.caFile), identity,
        b.insecurePlaintext, b.verifyHostname, b.topicPrefix));
    transports.put(id, t);
    if (!t.awaitConnected(Duration.ofSeconds(10))) {
      log.warn("{} not connected to {} yet; it keeps trying", id, b.uri);
    }
    return t;
  }

  private AdminResponse health() {
    ObjectNode o = new ObjectMapper().createObjectNode();
    boolean connected = transports.values().stream().allMatch(MqttTransport::isConnected);
    boolean clustersOnline = clusters.stream().allMatch(ServiceManager::isUpstreamOnline);
    o.put("role", "controller");
    o.put("connected", connected);
    o.put("clustersOnline", clustersOnline);
    o.put("nodes", root.orchestration().nodes().size());
    AdminResponse ok = AdminResponse.json(o.toString());
    return connected && clustersOnline ? ok : new AdminResponse(503, AdminResponse.JSON, ok.body());
  }

  private <T extends AutoCloseable> T closing(T c) {
    return started.push(c);
  }

  @Override
  public void close() {
    log.info("stopping");
    started.close();
  }
}
