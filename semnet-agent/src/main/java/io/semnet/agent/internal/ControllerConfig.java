package io.semnet.agent.internal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The controller's {@code controller.yaml}, as Jackson reads it: every field has the default the
 * README's table lists; {@link #check()} names whatever is missing or inconsistent.
 */
public final class ControllerConfig {
  /** Root key (generated on first start, mode 0600) and journal. */
  public String stateDir = "/var/lib/semnet-controller";
  public String logLevel = "info";
  /** The cluster managers this controller hosts (nodes are enrolled into them). */
  public List<String> clusters = new ArrayList<>(List.of("c1"));
  public Broker broker = new Broker();
  public Store store = new Store();
  /** Validity of node registrations, tunnel and MQTT certificates (renewed at two thirds). */
  public String certificateValidity = "24h";
  /** How long an identical repeated enrolment (a retry after a lost reply) gets the first answer. */
  public String enrolmentRetryWindow = "60s";
  /** PEM {@code PUBLIC KEY} files of the orchestrators (Ed25519) whose signed calls are obeyed. */
  public List<String> orchestratorKeys = new ArrayList<>();
  public Admin admin = new Admin();

  /** The MQTT broker; the controller connects once per manager, as {@code <id>} with {@code identityDir/<id>.crt|.key}. */
  public static final class Broker {
    public String uri;
    public String caFile;
    /** The CA's private key: signs the MQTT client certificates of enrolling nodes. */
    public String caKeyFile;
    /** Directory of the managers' client certificates ({@code root.crt}, {@code root.key}, {@code c1.crt}, ...). */
    public String identityDir;
    public boolean insecurePlaintext;
    public boolean verifyHostname = true;
    public String topicPrefix = "semnet";
  }

  /** The root's durable store. */
  public static final class Store {
    /** {@code journal} (a file in the state dir) or {@code postgres}. */
    public String type = "journal";
    public String jdbcUrl;
    public String user = "postgres";
    public String password;
  }

  /** The admin HTTP server (health). */
  public static final class Admin {
    public String bind = "127.0.0.1:9181";
    public String bearerToken;
  }

  public Path statePath() {
    return Path.of(stateDir);
  }

  /** @throws IllegalArgumentException naming every missing or inconsistent setting */
  public ControllerConfig check() {
    List<String> problems = new ArrayList<>();
    if (broker.uri == null) {
      problems.add("broker.uri is missing");
    } else if (broker.uri.startsWith("tcp://") && !broker.insecurePlaintext) {
      problems.add("broker.uri is plaintext (tcp://): use ssl:// or set broker.insecurePlaintext: true");
    } else if (!broker.insecurePlaintext && (broker.caFile == null || broker.identityDir == null)) {
      problems.add("broker.caFile and broker.identityDir are required with TLS");
    }
    if (clusters.isEmpty()) {
      problems.add("clusters is empty: nodes need a cluster manager");
    }
    if (!store.type.equals("journal") && !store.type.equals("postgres")) {
      problems.add("store.type must be journal or postgres");
    }
    if (store.type.equals("postgres") && store.jdbcUrl == null) {
      problems.add("store.jdbcUrl is missing");
    }
    if (orchestratorKeys.isEmpty()) {
      problems.add("orchestratorKeys is empty: nobody could issue join tokens or deploy");
    }
    ConfigValues.duration("certificateValidity", certificateValidity);
    ConfigValues.duration("enrolmentRetryWindow", enrolmentRetryWindow);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("controller configuration: " + String.join("; ", problems));
    }
    return this;
  }
}
