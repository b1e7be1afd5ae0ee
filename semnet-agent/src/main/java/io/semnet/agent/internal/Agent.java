package io.semnet.agent.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semnet.control.RemoteOrchestration;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.record.GeoPoint;
import io.semnet.mqtt.MqttTransport;
import io.semnet.node.WorkerNode;
import io.semnet.node.admin.AdminResponse;
import io.semnet.metrics.NodeAdmin;
import io.semnet.node.admin.AdminServer;
import io.semnet.resolver.enrol.Enrolled;
import io.semnet.resolver.enrol.Enrolment;
import io.semnet.resolver.enrol.NodeIdentityFile;
import io.semnet.resolver.enrol.RegistrationRenewal;
import io.semnet.resolver.transport.TransportException;
import io.semnet.tunnel.NodeKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running node agent: enrols with the join token on its first start (over the shared
 * enrolment-only MQTT identity) or loads its identity file, connects as itself with the MQTT
 * certificate it was issued, builds and starts the {@link WorkerNode} (in its namespace), renews
 * its registration before expiry, serves {@code /health} on the admin server and takes
 * {@code attach}/{@code detach} on its local control socket. {@link #close()} undoes all of it in
 * reverse order (the node removes its devices, routes and nftables tables).
 */
public final class Agent implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Agent.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration ENROL_PATIENCE = Duration.ofMinutes(2);
  private static final Duration ENROL_ATTEMPT = Duration.ofSeconds(5);

  private final AgentConfig config;
  private final CloseStack started = new CloseStack();
  private NodeIdentityFile identity;
  private MqttTransport transport;
  private ClientIdentity mqttIdentity;
  private volatile Enrolled enrolled;
  private WorkerNode node;

  private Agent(AgentConfig config) {
    this.config = config;
  }

  /** Starts an agent; on failure undoes what it did and throws. */
  public static Agent start(AgentConfig config) throws Exception {
    Agent a = new Agent(config.check());
    try {
      a.run();
    } catch (Exception | Error e) {
      a.close();
      throw e;
    }
    return a;
  }

  private void run() throws Exception {
    Path state = config.statePath();
    Files.createDirectories(state);
    Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwx------"));
    identity = NodeIdentityFile.open(state.resolve("identity.json"));
    if (!identity.hasTunnelKeys()) {
      NodeKeys k = NodeKeys.generate();
      identity.saveTunnelKeys(k.privateKeyBytes(), k.publicKey());
    }
    NodeKeys keys = NodeKeys.of(identity.tunnelPrivateKey(), identity.tunnelPublicKey());
    WorkerEndpoint endpoint = WorkerEndpoint.of(config.nodeId, ConfigValues.address("tunnel.advertise", config.tunnel.advertise),
        keys.publicKey());
    enrolled = enrolment(endpoint);

    AgentConfig.Broker b = config.broker;
    if (!b.insecurePlaintext) {
      if (enrolled.mqttCertificate() == null) {
        throw new IllegalStateException("the controller issued no MQTT client certificate (is broker.caKeyFile set there?)");
      }
      mqttIdentity = new ClientIdentity(identity.mqttKeyPair().getPrivate(), List.of(Pem.certificate(enrolled.mqttCertificate())));
    }
    transport = closing(Connections.mqtt(b.uri, config.nodeId, caFile(), mqttIdentity, b.insecurePlaintext, b.verifyHostname,
        b.topicPrefix));
    if (!transport.awaitConnected(Duration.ofSeconds(10))) {
      log.warn("not connected to {} yet; the node starts and its resolver catches up once connected", b.uri);
    }

    AgentConfig.Node n = config.node;
    var builder = WorkerNode.builder(enrolled.registration()).plan(enrolled.plan()).keys(keys).rootTrust(enrolled.rootTrust())
        .controlTransport(transport).identityFile(identity).namespace(n.namespace).bridgeName(n.bridge).tunName(n.tun)
        .underlayMtu(config.tunnel.underlayMtu).antiSpoofing(n.antiSpoofing)
        .dnsUpstreams(n.dnsUpstreams.toArray(new String[0]))
        .resolverOptions(r -> r.stateFile(state.resolve("resolver-state.json")));
    if (config.tunnel.bind != null) {
      builder.tunnelBind(ConfigValues.address("tunnel.bind", config.tunnel.bind));
    }
    if (config.tunnel.keepaliveInterval != null) {
      java.time.Duration keepalive = ConfigValues.duration("tunnel.keepaliveInterval", config.tunnel.keepaliveInterval);
      builder.tunnelOptions(t -> t.keepaliveInterval(keepalive));
    }
    if (config.tunnel.insecurePlaintext) {
      log.warn("the tunnel of {} is PLAINTEXT (tunnel.insecurePlaintext): datagrams are neither authenticated nor encrypted",
          config.nodeId);
      builder.plaintextTunnel(true);
    }
    node = closing(builder.build().start());

    closing(RegistrationRenewal.start(transport, enrolled, () -> identity.mqttKeyPair().getPublic().getEncoded(), this::renewed));
    RemoteOrchestration orchestration = config.orchestrator.keyFile == null ? null
        : closing(RemoteOrchestration.builder().transport(transport).clientId(config.nodeId)
            .key(Connections.orchestratorKey(Path.of(config.orchestrator.keyFile))).build());
    closing(new LocalControl(state.resolve("control.sock"), node, orchestration).start());
    NodeAdmin admin = closing(NodeAdmin.of(node, transport));
    closing(admin.install(AdminServer.builder().bind(ConfigValues.address("admin.bind", config.admin.bind))
        .bearerToken(config.admin.bearerToken).endpoint("/health", q -> health())).build().start());
    log.info("agent {} up: subnets {} / {}, manager {}, registration valid until {}", config.nodeId,
        enrolled.registration().subnetV4(), enrolled.registration().subnetV6(), enrolled.managerId(),
        enrolled.signedRegistration().notAfter());
  }

  /** The stored enrolment if it is for this endpoint and still valid, else a new one with the join token. */
  private Enrolled enrolment(WorkerEndpoint endpoint) throws Exception {
    Enrolled stored = identity.enrolment();
    if (stored != null && stored.registration().endpoint().equals(endpoint)
        && stored.signedRegistration().notAfter().isAfter(Instant.now())) {
      log.info("identity of {} loaded from {} (enrolled, serial {})", config.nodeId, config.statePath(),
          stored.signedRegistration().serial());
      return stored;
    }
    String why = stored == null ? "not enrolled yet"
        : !stored.registration().endpoint().equals(endpoint) ? "the stored registration is for " + stored.registration().endpoint()
        : "the stored registration expired at " + stored.signedRegistration().notAfter();
    if (config.join.token == null || config.join.rootKeyHash == null) {
      throw new IllegalStateException(config.nodeId + " is " + why + " and join.token / join.rootKeyHash are not configured");
    }
    log.info("{}: {}; enrolling with join token {}", config.nodeId, why, config.join.token.split("\\.")[0]);
    AgentConfig.Broker b = config.broker;
    ClientIdentity enrolId = b.insecurePlaintext ? null
        : ClientIdentity.fromFiles(Path.of(b.enrolCertFile), Path.of(b.enrolKeyFile));
    GeoPoint location = config.node.latitude == null ? null : GeoPoint.of(config.node.latitude, config.node.longitude);
    byte[] mqttKey = identity.mqttKeyPair().getPublic().getEncoded();
    // The enrolment identity is one MQTT client id: an agent enrolling at the same moment takes the
    // connection over. So each attempt is one short connection that does not reconnect by itself,
    // and a failed attempt waits a random while before the next (an identical retry is answered again).
    long deadline = System.nanoTime() + ENROL_PATIENCE.toNanos();
    java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
    while (true) {
      try (MqttTransport enrolNet = Connections.mqtt(b.uri, b.enrolUser, caFile(), enrolId, b.insecurePlaintext, b.verifyHostname,
          b.topicPrefix, Duration.ofMinutes(1))) {
        if (!enrolNet.awaitConnected(Duration.ofSeconds(10))) {
          throw new TransportException("not connected to " + b.uri + " as " + b.enrolUser);
        }
        Enrolled e = Enrolment.enrol(enrolNet, Enrolment.DEFAULT_SERVICE_ID, config.join.token, config.join.rootKeyHash, endpoint,
            location, mqttKey, ENROL_ATTEMPT);
        identity.saveEnrolment(e);
        log.info("{} enrolled in cluster {}", config.nodeId, e.managerId());
        return e;
      } catch (TransportException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        long pause = random.nextLong(200, 2000);
        log.info("enrolment attempt failed ({}); retrying in {} ms", e.getMessage(), pause);
        Thread.sleep(pause);
      }
    }
  }

  private void renewed(Enrolled next) {
    try {
      identity.saveEnrolment(next);
    } catch (IOException e) {
      log.error("cannot store the renewed registration of {}", config.nodeId, e);
    }
    if (mqttIdentity != null && next.mqttCertificate() != null) {
      mqttIdentity.update(List.of(Pem.certificate(next.mqttCertificate())));
    }
    if (node != null && next.registration().certificate() != null) {
      node.tunnel().updateCertificate(next.registration().certificate());
    }
    enrolled = next;
    log.info("registration of {} renewed until {}", config.nodeId, next.signedRegistration().notAfter());
  }

  private Path caFile() {
    return config.broker.caFile == null ? null : Path.of(config.broker.caFile);
  }

  private <T extends AutoCloseable> T closing(T c) {
    return started.push(c);
  }

  /** {@code /health}: 200 when enrolled, online and forwarding, else 503; JSON either way. */
  AdminResponse health() {
    Enrolled e = enrolled;
    boolean isEnrolled = e != null && e.signedRegistration().notAfter().isAfter(Instant.now());
    boolean online = transport != null && transport.isConnected() && node != null && node.resolver().isOnline();
    boolean forwarding = node != null && node.isRunning();
    ObjectNode o = JSON.createObjectNode();
    o.put("nodeId", config.nodeId);
    o.put("enrolled", isEnrolled);
    o.put("online", online);
    o.put("forwarding", forwarding);
    if (e != null) {
      o.put("manager", e.managerId());
      o.put("registrationSerial", e.signedRegistration().serial());
      o.put("registrationNotAfter", e.signedRegistration().notAfter().toString());
      o.put("subnetV4", String.valueOf(e.registration().subnetV4()));
      o.put("subnetV6", String.valueOf(e.registration().subnetV6()));
    }
    if (node != null) {
      o.put("namespace", node.namespace());
      o.put("tunMtu", node.tunMtu());
      o.put("instances", node.localInstances().all().size());
    }
    AdminResponse ok = AdminResponse.json(o.toString());
    return isEnrolled && online && forwarding ? ok : new AdminResponse(503, AdminResponse.JSON, ok.body());
  }

  @Override
  public void close() {
    log.info("stopping");
    started.close();
  }
}
