package io.semnet.samples.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.semnet.agent.internal.ClientIdentity;
import io.semnet.agent.internal.Connections;
import io.semnet.control.RemoteOrchestration;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.service.ServiceId;
import io.semnet.mqtt.MqttTransport;
import io.semnet.proxy.tun.NetworkPlumbing;
import io.semnet.resolver.transport.TransportException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The deployable shape on one machine: mosquitto with TLS (PKI, ACL and configuration from the
 * controller's {@code certs init}), one controller process and one agent process per worker (the
 * project's shaded jars, each node in its own network namespace on the simulated {@link Underlay}),
 * enrolled with join tokens; instances are attached with {@code agent attach} and the demo acts as
 * the orchestrator through {@link RemoteOrchestration}, signed with the operator's key. Only the
 * underlay (bridge, NAT router, the user-space delayed link) and the instances' servers live in
 * this JVM. {@link #close} (also run on Ctrl-C) stops the agents with SIGTERM (each removes its
 * devices), then the controller and the broker, and removes every namespace and file it made.
 */
public final class ProcessCluster implements AutoCloseable {
  public static final String CLUSTER = "c1";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A process this cluster started: its role ({@code broker}, {@code controller}, {@code agent}), name and process. */
  public record Proc(String role, String name, Process process) {}

  /** An instance: its namespace, the worker it is attached to, its server directory and the attach answer. */
  public final class Instance {
    private final ServiceId service;
    private final int ordinal;
    private final String namespace;
    private final Path dir;
    private String worker;
    private JsonNode attachment;
    private Process server;

    private Instance(ServiceId service, int ordinal, String namespace, Path dir) {
      this.service = service;
      this.ordinal = ordinal;
      this.namespace = namespace;
      this.dir = dir;
    }

    public String label() {
      return service.service() + "#" + ordinal + "@" + worker;
    }

    public String namespace() {
      return namespace;
    }

    public String worker() {
      return worker;
    }

    /** A field of the agent's attach answer (e.g. {@code instanceIpv4}, {@code namespaceIpv4}). */
    public String attached(String field) {
      return attachment.path("attachment").path(field).asText();
    }

    /** Serves a page saying {@link #label()} over HTTP on {@code port}. */
    public Instance serveHttp(int port) {
      writeIndex();
      server = Shell.start(namespace, dir.resolve("http.log"), "/usr/bin/python3", "-m", "http.server", Integer.toString(port),
          "--bind", "::", "--directory", dir.toString());
      waitFor(() -> Shell.run(namespace, 5, "curl", "-sf", "-o", "/dev/null", "http://127.0.0.1:" + port + "/").ok(), 20,
          "HTTP server of " + label());
      return this;
    }

    private void writeIndex() {
      try {
        Files.writeString(dir.resolve("index.html"), label() + "\n");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    public Shell.Result run(int timeoutSeconds, String... cmd) {
      return Shell.run(namespace, timeoutSeconds, cmd);
    }
  }

  private final String prefix = "sp" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100, 0xfff));
  private final Path work;
  private final Path pki;
  private final Underlay underlay;
  private final NetworkPlumbing namespaces = NetworkPlumbing.here();
  private final Map<String, Underlay.NatRouter> natRouters = new LinkedHashMap<>();
  private final List<Proc> processes = new ArrayList<>();
  private final Map<String, Path> agentYaml = new LinkedHashMap<>();
  private final Map<String, Integer> adminPorts = new LinkedHashMap<>();
  private final List<Instance> instances = new ArrayList<>();
  private final Path agentJar;
  private final Path controllerJar;
  private final String pluginPath;
  private final Thread hook = new Thread(this::close, "process-cluster-cleanup");
  private List<String> jvmOptions = List.of();
  private boolean plaintextTunnels;
  private String keepalive;
  private int mqttPort;
  private Path controllerYaml;
  private String rootKeyHash;
  private MqttTransport operatorLink;
  private RemoteOrchestration orchestration;
  private int nextInstance;
  private boolean closed;

  /**
   * @param agentJar the agent's shaded jar ({@code semnet-agent/target/semnet-agent-*-agent.jar})
   * @param controllerJar the controller's shaded jar
   * @param pluginPath class path entries added to both (policy plugins), or empty
   */
  public ProcessCluster(Path agentJar, Path controllerJar, String pluginPath) throws IOException {
    this.agentJar = agentJar;
    this.controllerJar = controllerJar;
    this.pluginPath = pluginPath;
    Runtime.getRuntime().addShutdownHook(hook);
    this.work = Files.createTempDirectory(prefix);
    this.pki = work.resolve("pki");
    this.underlay = new Underlay(prefix);
  }

  /** The shaded jar of the agent or controller ({@code -Dsemnet.agent.dir}, default semnet-agent/target). */
  public static Path jar(String classifier) throws IOException {
    Path dir = Path.of(System.getProperty("semnet.agent.dir", "semnet-agent/target"));
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith("-" + classifier + ".jar")).findFirst()
          .orElseThrow(() -> new IllegalStateException("no *-" + classifier + ".jar in " + dir.toAbsolutePath()
              + " (build with mvn -DskipTests package)")).toAbsolutePath();
    }
  }

  /** Options for every JVM this cluster starts (default none: as {@code java -jar} would run). */
  public ProcessCluster jvmOptions(String... options) {
    this.jvmOptions = List.of(options);
    return this;
  }

  /** The tunnels' keepalive interval of workers added from now on ({@code tunnel.keepaliveInterval}, e.g. {@code 1s}). */
  public ProcessCluster keepaliveInterval(String interval) {
    this.keepalive = interval;
    return this;
  }

  /** Whether workers added from now on run plaintext tunnels ({@code tunnel.insecurePlaintext}; default false). */
  public ProcessCluster plaintextTunnels(boolean on) {
    this.plaintextTunnels = on;
    return this;
  }

  public List<Proc> processes() {
    synchronized (processes) {
      return List.copyOf(processes);
    }
  }

  public Underlay underlay() {
    return underlay;
  }

  /**
   * The operator's orchestration client, connected on first use (after {@link #startControlPlane}).
   * {@code token create} connects with the same operator identity, so a later one takes the broker
   * connection from this client for a moment (it reconnects).
   */
  public synchronized RemoteOrchestration orchestration() {
    requireOpen();
    if (orchestration == null) {
      operatorLink = Connections.mqtt("ssl://127.0.0.1:" + mqttPort, "orchestrator", pki.resolve("ca.crt"),
          ClientIdentity.fromFiles(pki.resolve("orchestrator.crt"), pki.resolve("orchestrator.key")), false, true, "semnet");
      orchestration = RemoteOrchestration.builder().transport(operatorLink).clientId("orchestrator")
          .key(Connections.orchestratorKey(pki.resolve("orchestrator-signing.key"))).build();
    }
    return orchestration;
  }

  /**
   * Writes the broker PKI with {@code certs init} and starts mosquitto with TLS and the controller.
   */
  public void startControlPlane() throws Exception {
    mqttPort = freePort();
    Shell.Result init = runJava("certs-init", controllerJar, "io.semnet.agent.ControllerMain", "certs", "init", pki.toString(),
        "--host", "127.0.0.1", "--cluster", CLUSTER, "--port", Integer.toString(mqttPort), "--listen", "127.0.0.1");
    check(init, "certs init");
    // mosquitto drops to its own user by default; the keys certs init wrote are root's (0600)
    Files.writeString(pki.resolve("mosquitto.conf"), Files.readString(pki.resolve("mosquitto.conf")) + "user root\n");
    Process broker = start("broker", "mosquitto", List.of("mosquitto", "-c", pki.resolve("mosquitto.conf").toString()));
    waitFor(() -> listening(mqttPort) || !broker.isAlive(), 15, "mosquitto listening on " + mqttPort);
    if (!broker.isAlive()) {
      throw new IllegalStateException("mosquitto exited: " + log("mosquitto"));
    }
    int admin = freePort();
    controllerYaml = work.resolve("controller.yaml");
    Files.writeString(controllerYaml, "stateDir: " + work.resolve("controller") + "\nclusters: [" + CLUSTER + "]\nbroker:\n"
        + "  uri: ssl://127.0.0.1:" + mqttPort + "\n  caFile: " + pki.resolve("ca.crt") + "\n  caKeyFile: " + pki.resolve("ca.key")
        + "\n  identityDir: " + pki + "\norchestratorKeys: [" + pki.resolve("orchestrator-signing.pub") + "]\nadmin: {bind: \"127.0.0.1:"
        + admin + "\"}\n");
    startJava("controller", "controller", controllerJar, "io.semnet.agent.ControllerMain", "--config", controllerYaml.toString());
    waitFor(() -> httpStatus("http://127.0.0.1:" + admin + "/health") == 200, 90, "the controller healthy: " + log("controller"));
  }

  /** A one-time join token from the controller's {@code token create} command; remembers the root key hash. */
  public String createToken() {
    Shell.Result r = runJava("token-create", controllerJar, "io.semnet.agent.ControllerMain", "token", "create", "--config",
        controllerYaml.toString());
    check(r, "token create");
    rootKeyHash = line(r.output(), "root-key-hash: ");
    return line(r.output(), "token: ");
  }

  /** How the worker reaches the underlay. */
  public enum Link { DIRECT, IMPAIRED, NAT }

  /**
   * Creates the worker's namespace on the underlay and starts its agent process with a fresh join
   * token; returns when its {@code /health} says enrolled, online and forwarding.
   */
  public void addWorker(String name, Link link, GeoPoint location) throws Exception {
    String token = createToken();
    String ns = prefix + "-" + name;
    synchronized (this) {
      requireOpen();
      namespaces.createNamespace(ns);
    }
    Underlay.Attachment at = switch (link) {
      case DIRECT -> underlay.attach(ns, name);
      case IMPAIRED -> underlay.attachImpaired(ns, name);
      case NAT -> natRouters.computeIfAbsent("nat1", underlay::natRouter).attach(ns, name);
    };
    int admin = freePort();
    Path yaml = work.resolve(name + ".yaml");
    Files.writeString(yaml, "nodeId: " + name + "\nstateDir: " + work.resolve(name) + "\nbroker:\n  uri: ssl://127.0.0.1:" + mqttPort
        + "\n  caFile: " + pki.resolve("ca.crt") + "\n  enrolCertFile: " + pki.resolve("semnet-enrol.crt") + "\n  enrolKeyFile: "
        + pki.resolve("semnet-enrol.key") + "\njoin: {token: \"" + token + "\", rootKeyHash: \"" + rootKeyHash + "\"}\n"
        + "tunnel: {advertise: \"" + at.advertised().getAddress().getHostAddress() + ":" + at.advertised().getPort() + "\", bind: \""
        + at.bind().getAddress().getHostAddress() + ":" + at.bind().getPort() + "\", insecurePlaintext: " + plaintextTunnels
        + (keepalive == null ? "" : ", keepaliveInterval: " + keepalive) + "}\n"
        + "node: {namespace: " + ns + ", latitude: " + location.latitude() + ", longitude: " + location.longitude() + "}\n"
        + "admin: {bind: \"127.0.0.1:" + admin + "\"}\norchestrator: {keyFile: " + pki.resolve("orchestrator-signing.key") + "}\n");
    agentYaml.put(name, yaml);
    adminPorts.put(name, admin);
    startJava("agent", name, agentJar, "io.semnet.agent.AgentMain", "--config", yaml.toString());
    waitFor(() -> httpStatus("http://127.0.0.1:" + admin + "/health") == 200, 90, "agent " + name + " healthy: " + log(name));
  }

  /** The process ids of the agents, in the order they were added. */
  public List<Long> agentPids() {
    return processes().stream().filter(p -> p.role().equals("agent")).map(p -> p.process().pid()).toList();
  }

  /** The agent's {@code /health} answer. */
  public String health(String worker) throws IOException {
    return httpGet("http://127.0.0.1:" + adminPorts.get(worker) + "/health");
  }

  /** The agent's {@code /metrics} answer (Prometheus text). */
  public String metrics(String worker) throws IOException {
    return httpGet("http://127.0.0.1:" + adminPorts.get(worker) + "/metrics", 10_000);
  }

  /** Creates an instance namespace and attaches it on {@code worker} with {@code agent attach}. */
  public synchronized Instance startInstance(String worker, ServiceId service, int ordinal) throws IOException {
    requireOpen();
    String ns = prefix + "-i" + (nextInstance++);
    namespaces.createNamespace(ns);
    Instance i = new Instance(service, ordinal, ns, Files.createDirectories(work.resolve(ns)));
    instances.add(i);
    attach(i, worker);
    return i;
  }

  private void attach(Instance i, String worker) {
    Shell.Result r = agentCommand("attach-" + i.namespace, worker, "attach", "--netns", i.namespace, "--service",
        i.service.toString(), "--ordinal", Integer.toString(i.ordinal));
    check(r, "agent attach on " + worker);
    try {
      i.attachment = JSON.readTree(r.output().substring(r.output().indexOf('{')));
      String gw = Shell.check(i.namespace, "ip", "-4", "route", "show", "default").split("\\s+")[2];
      Path netnsDir = Files.createDirectories(Path.of("/etc/netns", i.namespace));
      Files.writeString(netnsDir.resolve("resolv.conf"), "nameserver " + gw + "\noptions timeout:2 attempts:2\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    i.worker = worker;
  }

  /** Crash-stops an instance's server and detaches it with {@code agent detach} (which also unplaces it at the root). */
  public synchronized void kill(Instance i) {
    Shell.kill(i.server);
    check(agentCommand("detach-" + i.namespace, i.worker, "detach", "--netns", i.namespace), "agent detach");
  }

  /** Attaches a {@link #kill killed} instance again on its worker with {@code agent attach}, as an orchestrator restarting it. */
  public synchronized void restart(Instance i) {
    attach(i, i.worker);
  }

  /**
   * Moves an instance cold: {@code agent detach} on its worker, {@code agent attach} of the same
   * namespace on {@code toWorker} (the root keeps its InstanceIP); the server keeps running and now
   * says its new place.
   */
  public synchronized void migrate(Instance i, String toWorker) {
    check(agentCommand("detach-" + i.namespace, i.worker, "detach", "--netns", i.namespace), "agent detach");
    attach(i, toWorker);
    i.writeIndex();
  }

  private Shell.Result agentCommand(String logName, String worker, String command, String... args) {
    List<String> a = new ArrayList<>(List.of(command, "--config", agentYaml.get(worker).toString()));
    a.addAll(List.of(args));
    return runJava(logName, agentJar, "io.semnet.agent.AgentMain", a.toArray(String[]::new));
  }

  private List<String> java(Path jar, String main, String... args) {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-cp", jar + (pluginPath.isEmpty() ? "" : ":" + pluginPath), main));
    cmd.addAll(List.of(args));
    return cmd;
  }

  private Shell.Result runJava(String logName, Path jar, String main, String... args) {
    return Shell.run(null, 120, java(jar, main, args).toArray(String[]::new));
  }

  private void startJava(String role, String name, Path jar, String main, String... args) throws IOException {
    start(role, name, java(jar, main, args));
  }

  private Process start(String role, String name, List<String> cmd) throws IOException {
    synchronized (this) {
      requireOpen();
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logFile(name).toFile()).start();
      synchronized (processes) {
        processes.add(new Proc(role, name, p));
      }
      return p;
    }
  }

  private Path logFile(String name) {
    return work.resolve(name + ".log");
  }

  /** The output of the process named {@code name} so far. */
  public String log(String name) {
    try {
      return Files.exists(logFile(name)) ? Files.readString(logFile(name), StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("the cluster is closed");
    }
  }

  private static void check(Shell.Result r, String what) {
    if (!r.ok()) {
      throw new IllegalStateException(what + " failed (" + r.exitCode() + "): " + r.output().trim());
    }
  }

  private static String line(String output, String prefix) {
    return output.lines().filter(l -> l.startsWith(prefix)).findFirst()
        .orElseThrow(() -> new IllegalStateException("no '" + prefix + "' in: " + output)).substring(prefix.length()).trim();
  }

  /** The orchestration client's first calls may race the controller's managers coming online. */
  public static <T> T retry(Supplier<T> call) throws InterruptedException {
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

  /** Polls {@code condition} every 100 ms for up to {@code seconds}. */
  public static void waitFor(BooleanSupplier condition, int seconds, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("not within " + seconds + " s: " + what);
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static boolean listening(int port) {
    try (java.net.Socket s = new java.net.Socket()) {
      s.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int httpStatus(String url) {
    try {
      HttpURLConnection c = (HttpURLConnection) new URL(url).openConnection();
      c.setConnectTimeout(1000);
      c.setReadTimeout(3000);
      return c.getResponseCode();
    } catch (IOException e) {
      return -1;
    }
  }

  private static String httpGet(String url) throws IOException {
    return httpGet(url, 3000);
  }

  private static String httpGet(String url, int readTimeoutMs) throws IOException {
    HttpURLConnection c = (HttpURLConnection) new URL(url).openConnection();
    c.setConnectTimeout(1000);
    c.setReadTimeout(readTimeoutMs);
    var in = c.getResponseCode() >= 400 ? c.getErrorStream() : c.getInputStream();
    return in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    instances.forEach(i -> Shell.kill(i.server));
    try {
      if (orchestration != null) {
        orchestration.close();
      }
      if (operatorLink != null) {
        operatorLink.close();
      }
    } catch (Exception e) {
      System.err.println("closing the orchestration client failed: " + e);
    }
    // agents first (SIGTERM: each node removes its devices and unplaces its instances), then controller, then broker
    for (String role : List.of("agent", "controller", "broker")) {
      List<Process> stopping = new ArrayList<>();
      for (Proc p : processes()) {
        if (p.role().equals(role) && p.process().isAlive()) {
          p.process().destroy();
          stopping.add(p.process());
        }
      }
      for (Process p : stopping) {
        try {
          if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
          }
        } catch (InterruptedException e) {
          p.destroyForcibly();
        }
      }
    }
    for (Instance i : instances) {
      LocalCluster.deleteTree(Path.of("/etc/netns", i.namespace));
    }
    namespaces.close();
    underlay.close();
    LocalCluster.deleteTree(work);
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException ignored) {
      // already shutting down
    }
  }
}
