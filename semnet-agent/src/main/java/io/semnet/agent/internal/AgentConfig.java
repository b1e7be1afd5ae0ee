package io.semnet.agent.internal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The agent's {@code node.yaml}, as Jackson reads it: every field has the default the README's table
 * lists; {@link #check()} names whatever is missing or inconsistent. Mutable only while it is read.
 */
public final class AgentConfig {
  /** The node's id (its MQTT certificate's CN once enrolled). Required. */
  public String nodeId;
  /** Identity file (mode 0600), control socket. */
  public String stateDir = "/var/lib/semnet-agent";
  /** slf4j-simple's default level: trace, debug, info, warn, error. */
  public String logLevel = "info";
  public Broker broker = new Broker();
  public Join join = new Join();
  public Tunnel tunnel = new Tunnel();
  public Node node = new Node();
  public Admin admin = new Admin();
  public Orchestrator orchestrator = new Orchestrator();

  /** The MQTT broker and the files of the TLS identities. */
  public static final class Broker {
    /** {@code ssl://host:port}; {@code tcp://} only with {@link #insecurePlaintext}. Required. */
    public String uri;
    /** The CA that signed the broker's and every node's certificate (PEM). */
    public String caFile;
    /** The shared enrolment-only identity (certificate and key PEM), used on the first start only. */
    public String enrolCertFile;
    public String enrolKeyFile;
    /** The enrolment identity's CN (the broker's ACL names it). */
    public String enrolUser = "semnet-enrol";
    /** Plaintext MQTT without client certificates: logs a warning; lab use only. */
    public boolean insecurePlaintext;
    /** Whether the broker's certificate must name the URI's host. */
    public boolean verifyHostname = true;
    public String topicPrefix = "semnet";
  }

  /** First start only: the join token and the root key hash {@code controller token create} printed. */
  public static final class Join {
    public String token;
    public String rootKeyHash;
  }

  /** The tunnel's UDP endpoint. */
  public static final class Tunnel {
    /** Where peers reach this node ({@code ip:port}; behind NAT the forwarded public address). Required. */
    public String advertise;
    /** Where the socket binds; default: the wildcard address on the advertised port. */
    public String bind;
    public int underlayMtu = 1500;
    /** How often an idle link sends a keepalive (which also measures the RTT {@code closest} uses); default the tunnel's. */
    public String keepaliveInterval;
    /** Tunnel datagrams neither authenticated nor encrypted (benchmarks, labs): logs a warning. */
    public boolean insecurePlaintext;
  }

  /** The worker node's network set-up. */
  public static final class Node {
    /** Network namespace (from {@code ip netns add}) the node's devices and sockets live in; default: the agent's own. */
    public String namespace;
    public String bridge = "snbr";
    public String tun = "sn0";
    public Double latitude;
    public Double longitude;
    /** DNS servers (host or host:port) other names are forwarded to; default none (refused). */
    public List<String> dnsUpstreams = new ArrayList<>();
    /** nftables anti-spoofing rules per instance port. */
    public boolean antiSpoofing = true;
  }

  /** The admin HTTP server (health). */
  public static final class Admin {
    /** {@code ip:port}; off loopback a bearer token is required. */
    public String bind = "127.0.0.1:9180";
    public String bearerToken;
  }

  /** The key placements are signed with (the controller must trust its public key); without it {@code attach} is refused. */
  public static final class Orchestrator {
    public String keyFile;
  }

  public Path statePath() {
    return Path.of(stateDir);
  }

  /** @throws IllegalArgumentException naming every missing or inconsistent setting */
  public AgentConfig check() {
    List<String> problems = new ArrayList<>();
    if (nodeId == null || !nodeId.matches("[A-Za-z0-9][A-Za-z0-9_-]{0,62}")) {
      problems.add("nodeId is missing or not [A-Za-z0-9_-] (1-63)");
    }
    if (broker.uri == null) {
      problems.add("broker.uri is missing");
    } else if (broker.uri.startsWith("tcp://") && !broker.insecurePlaintext) {
      problems.add("broker.uri is plaintext (tcp://): use ssl:// or set broker.insecurePlaintext: true");
    } else if (!broker.insecurePlaintext && broker.caFile == null) {
      problems.add("broker.caFile is missing (the CA of the broker's certificate)");
    }
    if (tunnel.advertise == null) {
      problems.add("tunnel.advertise is missing (ip:port peers reach this node at)");
    }
    if ((node.latitude == null) != (node.longitude == null)) {
      problems.add("node.latitude and node.longitude go together");
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("node configuration: " + String.join("; ", problems));
    }
    return this;
  }
}
