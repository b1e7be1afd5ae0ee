package io.semnet.samples.cluster;

import io.semnet.core.address.Addresses;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.proxy.tun.NetworkPlumbing;
import io.semnet.control.InProcessControlPlane;
import io.semnet.testkit.MigrationWatch;
import io.semnet.resolver.WorkerResolver;
import io.semnet.control.Orchestration;
import io.semnet.control.ServiceDescriptor;
import io.semnet.node.Attachment;
import io.semnet.node.InstanceTarget;
import io.semnet.node.WorkerNode;
import io.semnet.tunnel.NodeKeys;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * A whole SemNet platform on one machine: a root and a cluster service manager (in-process control
 * plane), worker nodes in network namespaces joined by a simulated underlay (optionally behind NAT,
 * with netem delay or loss), and instances as network namespaces running real servers. Used by the
 * demo, the end-to-end tests and the end-to-end benchmark. Needs root. {@link #close} removes every
 * namespace, device and process it created, also after a failure; a shutdown hook does the same if
 * the JVM is interrupted (Ctrl-C).
 *
 * <p>All nodes share this JVM: each node's TUN device and sockets are opened inside its namespace,
 * so one JIT and one heap serve the whole cluster (cheaper on two cores than a JVM per node); the
 * cost is that the nodes also share CPU time and GC pauses.
 */
public final class LocalCluster implements AutoCloseable {
  public static final String CLUSTER = "cluster-1";

  /**
   * Names of this cluster's namespaces and links start with this: the system property
   * {@code semnet.cluster.prefix} (two letters, so concurrent runs of different people stay apart;
   * default "sn") and three random hex digits.
   */
  private final String prefix = System.getProperty("semnet.cluster.prefix", "sn")
      + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100, 0xfff));
  private final AddressPlan plan = AddressPlan.defaults();
  private final InProcessControlPlane controlPlane;
  private final Underlay underlay;
  private final Map<String, WorkerNode> workers = new LinkedHashMap<>();
  private final Map<String, Underlay.NatRouter> natRouters = new LinkedHashMap<>();
  private final List<Instance> instances = new ArrayList<>();
  private final NetworkPlumbing namespaces = NetworkPlumbing.here();
  private final Path workDir;
  private final boolean plaintext;
  private final Thread hook = new Thread(this::closeQuietly, "local-cluster-cleanup");
  private int nextInstanceNs;
  private volatile boolean migrationBuffering = true;
  private boolean closed;

  public LocalCluster(boolean plaintextTunnels) {
    this.plaintext = plaintextTunnels;
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      this.workDir = Files.createTempDirectory(prefix);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.controlPlane = InProcessControlPlane.builder()
        .clusters(CLUSTER)
        .plan(plan)
        .renewInterval(Duration.ofSeconds(5))
        .build();
    this.underlay = new Underlay(prefix);
  }

  public LocalCluster() {
    this(false);
  }

  public String prefix() {
    return prefix;
  }

  public AddressPlan plan() {
    return plan;
  }

  public InProcessControlPlane controlPlane() {
    return controlPlane;
  }

  /**
   * Where the root, the cluster manager and every worker's resolver place instance {@code ordinal}
   * of {@code service} (locator and record version), and each worker's resolver counters: what to
   * print when a move does not converge.
   */
  public String controlState(io.semnet.core.service.ServiceId service, int ordinal) {
    StringBuilder sb = new StringBuilder();
    java.util.function.Function<io.semnet.core.record.ServiceRecord, String> at = r -> r == null ? "no record"
        : r.version() + ":" + (r.instance(ordinal) == null ? "no instance" : r.instance(ordinal).locator());
    sb.append("root ").append(at.apply(orchestration().record(service)));
    controlPlane.clusters().forEach((id, m) -> sb.append("; cluster ").append(id).append(' ').append(at.apply(m.record(service))));
    for (WorkerNode w : workers()) {
      sb.append("; ").append(w.nodeId()).append(' ').append(at.apply(w.resolver().record(service)))
          .append(' ').append(w.resolver().stats());
    }
    return sb.toString();
  }

  public Orchestration orchestration() {
    return controlPlane.orchestration();
  }

  public Underlay underlay() {
    return underlay;
  }

  /**
   * Whether workers started from now on hold a frozen instance's packets by default (true); each
   * {@link #migrateStateful} may choose otherwise.
   */
  public LocalCluster migrationBuffering(boolean on) {
    this.migrationBuffering = on;
    return this;
  }

  /** The underlay MTU (veth default). */
  static final int UNDERLAY_MTU = 1500;

  /** Starts a worker attached directly to the underlay. */
  public synchronized WorkerNode addWorker(String name, GeoPoint location) throws Exception {
    String ns = prefix + "-" + name;
    namespaces.createNamespace(ns);
    return start(name, ns, underlay.attach(ns, name), location);
  }

  /** Starts a worker behind NAT router {@code natName} (created on first use), reachable only on its tunnel port. */
  public synchronized WorkerNode addWorkerBehindNat(String name, String natName, GeoPoint location) throws Exception {
    String ns = prefix + "-" + name;
    namespaces.createNamespace(ns);
    Underlay.NatRouter nat = natRouters.computeIfAbsent(natName, underlay::natRouter);
    return start(name, ns, nat.attach(ns, name), location);
  }

  /** Operations after {@link #close} (e.g. a Ctrl-C while the demo runs) must not create anything new. */
  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("the cluster is closed");
    }
  }

  /**
   * Registers a worker with the root, then assembles and starts it with the SDK's node builder in
   * its namespace on the simulated underlay (tunnel bound to its underlay address, advertising the
   * address peers reach it at).
   */
  private synchronized WorkerNode start(String name, String ns, Underlay.Attachment link, GeoPoint location) throws Exception {
    requireOpen();
    NodeKeys keys = NodeKeys.generate();
    WorkerEndpoint endpoint = WorkerEndpoint.of(name, link.advertised(), keys.publicKey());
    var resolver = controlPlane.addWorker(CLUSTER, endpoint, location);
    WorkerNode w = WorkerNode.builder(controlPlane.registration(name))
        .plan(plan)
        .keys(keys)
        .rootTrust(controlPlane.authority().trust())
        .resolver(resolver)
        .namespace(ns)
        .tunnelBind(link.bind())
        .underlayMtu(UNDERLAY_MTU)
        .plaintextTunnel(plaintext)
        .migrationBuffering(migrationBuffering)
        .tunnelOptions(t -> t.keepaliveInterval(Duration.ofSeconds(1)))
        .build();
    workers.put(name, w); // closed with the cluster even if its start fails
    w.start();
    return w;
  }

  public WorkerNode worker(String name) {
    WorkerNode w = workers.get(name);
    if (w == null) {
      throw new IllegalArgumentException("no worker " + name);
    }
    return w;
  }

  /** Starts a worker whose underlay link can be delayed and made lossy with {@link #impair}. */
  public synchronized WorkerNode addImpairedWorker(String name, GeoPoint location) throws Exception {
    String ns = prefix + "-" + name;
    namespaces.createNamespace(ns);
    return start(name, ns, underlay.attachImpaired(ns, name), location);
  }

  /** One-way delay and jitter (ms, each direction) and loss (0..1) on an impaired worker's link. */
  public void impair(String worker, double delayMs, double jitterMs, double loss) {
    underlay.impair(worker, delayMs, jitterMs, loss);
  }

  /** Packets {@code worker}'s impaired link has dropped on purpose and carried, in that order. */
  public long[] impairedCounts(String worker) {
    return underlay.impairedCounts(worker);
  }

  /** Drops a share of a worker's underlay packets in each direction. */
  public void loss(String worker, double probability) {
    underlay.loss(worker(worker).namespace(), probability);
  }

  public ServiceRecord deploy(ServiceDescriptor descriptor) {
    return orchestration().deploy(descriptor);
  }

  /** A running instance: its namespace, the node it is on, its record and its server process. */
  public final class Instance {
    private final ServiceId service;
    private final int ordinal;
    private WorkerNode node;
    private Attachment attachment;
    private final Path dir;
    private final List<Process> processes = new ArrayList<>();

    private Instance(ServiceId service, int ordinal, Path dir) {
      this.service = service;
      this.ordinal = ordinal;
      this.dir = dir;
    }

    public String namespace() {
      return attachment.namespace();
    }

    public WorkerNode node() {
      return node;
    }

    public InstanceRecord record() {
      return attachment.record();
    }

    public ServiceId service() {
      return service;
    }

    public int ordinal() {
      return ordinal;
    }

    /** Directory served over HTTP by {@link #serveHttp}. */
    public Path dir() {
      return dir;
    }

    public String label() {
      return service.service() + "#" + ordinal + "@" + node.nodeId();
    }

    /** Serves {@link #dir()} over HTTP on {@code port} (IPv4 and IPv6); index says {@link #label()}. */
    public Instance serveHttp(int port) {
      writeIndex();
      startProcess(dir.resolve("http.log"), "/usr/bin/python3", "-m", "http.server",
          Integer.toString(port), "--bind", "::", "--directory", dir.toString());
      waitFor(() -> Shell.run(namespace(), 5, "curl", "-sf", "-o", "/dev/null", "http://127.0.0.1:" + port + "/").ok(),
          "HTTP server of " + label());
      return this;
    }

    /** Answers UDP datagrams on {@code port} with {@code <label>:<payload>}. */
    public Instance serveUdpEcho(int port) {
      String code = "import socket\n"
          + "s=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM)\n"
          + "s.setsockopt(socket.IPPROTO_IPV6,socket.IPV6_V6ONLY,0)\n"
          + "s.bind(('::'," + port + "))\n"
          + "while True:\n"
          + "  d,a=s.recvfrom(65535)\n"
          + "  s.sendto(b'" + label() + ":'+d,a)\n";
      startProcess(dir.resolve("udp.log"), "/usr/bin/python3", "-c", code);
      return this;
    }

    private void startProcess(Path log, String... cmd) {
      synchronized (LocalCluster.this) {
        requireOpen();
        processes.add(Shell.start(namespace(), log, cmd));
      }
    }

    private void writeIndex() {
      try {
        Files.writeString(dir.resolve("index.html"), label() + "\n");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** Starts a background process in this instance's namespace (output to {@code logName} in {@link #dir()}); killed with the instance. */
    public Process start(String logName, String... cmd) {
      synchronized (LocalCluster.this) {
        requireOpen();
        Process p = Shell.start(namespace(), dir.resolve(logName), cmd);
        processes.add(p);
        return p;
      }
    }

    /** Runs a command inside this instance's namespace. */
    public Shell.Result run(int timeoutSeconds, String... cmd) {
      return Shell.run(namespace(), timeoutSeconds, cmd);
    }

    void stopProcesses() {
      synchronized (LocalCluster.this) {
        processes.forEach(Shell::kill);
        processes.clear();
      }
    }
  }

  /** Creates an instance namespace on {@code worker} and reports instance {@code ordinal} placed there. */
  public synchronized Instance startInstance(String worker, ServiceId service, int ordinal) {
    requireOpen();
    WorkerNode node = worker(worker);
    String ns = prefix + "-i" + (nextInstanceNs++);
    namespaces.createNamespace(ns);
    Path dir;
    try {
      dir = Files.createDirectories(workDir.resolve(service.service() + "-" + ordinal + "-" + ns));
      Path netnsDir = Files.createDirectories(Path.of("/etc/netns", ns));
      Files.writeString(netnsDir.resolve("resolv.conf"), "nameserver " + Addresses.format(node.gatewayIpv4()) + "\noptions timeout:2 attempts:2\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Instance i = new Instance(service, ordinal, dir);
    i.node = node;
    i.attachment = node.attach(InstanceTarget.netns(ns), loc -> orchestration().placeInstance(service, ordinal, loc).instance(ordinal));
    instances.add(i);
    return i;
  }

  /**
   * Kills an instance as a crash would: its processes die and its node notices (the instance
   * leaves the node's local table and its veth goes away). The control plane is not told; peers
   * learn from route-not-found notices.
   */
  public synchronized void kill(Instance i) {
    requireOpen();
    i.stopProcesses();
    i.node.detach(i.attachment);
  }

  /**
   * Moves an instance to another worker, keeping its InstanceIP (a cold move: the namespace is
   * re-wired to the new node's bridge and gets a namespace IP of the new node; servers restart).
   *
   * @return {@link System#nanoTime()} just before the new locator was handed to the control plane
   */
  public synchronized long migrate(Instance i, String toWorker) {
    requireOpen();
    WorkerNode from = i.node;
    WorkerNode to = worker(toWorker);
    from.detach(i.attachment);
    i.node = to;
    resolvConf(i.namespace(), to);
    long[] published = new long[1];
    i.attachment = to.attach(i.attachment.target(), loc -> {
      published[0] = System.nanoTime();
      return orchestration().migrate(i.service, i.ordinal, loc).instance(i.ordinal);
    });
    i.writeIndex();
    return published[0];
  }

  /**
   * Moves an instance statefully, as checkpoint/restore of a container would: its network
   * namespace, processes and sockets live on and keep their namespace IP, only the attachment
   * moves. Phases: {@code freeze} (the source node starts holding the instance's packets, the veth
   * to its bridge goes away), {@code freeze} time passes (the checkpoint's transfer), the same
   * namespace is wired to the destination's bridge with its old addresses as host routes, and
   * {@code restored} is announced (the root pushes the new locator; the source releases what it held).
   *
   * @param buffering whether the source holds packets during the freeze (else drops and counts them)
   */
  public Migration migrateStateful(Instance i, String toWorker, Duration freeze, boolean buffering) throws InterruptedException {
    WorkerNode from;
    WorkerNode to;
    InstanceRecord before;
    long tFreeze;
    MigrationWatch watch;
    synchronized (this) {
      requireOpen();
      from = i.node;
      to = worker(toWorker);
      before = i.record();
      Map<String, WorkerResolver> resolvers = new LinkedHashMap<>();
      workers.forEach((name, w) -> resolvers.put(name, w.resolver()));
      watch = MigrationWatch.start(before.key(), before.locator(), resolvers);
      tFreeze = System.nanoTime();
      from.freeze(i.attachment, to.endpoint(), buffering);
    }
    Thread.sleep(freeze.toMillis());
    long tUp;
    synchronized (this) {
      requireOpen();
      Attachment restored = to.restore(i.attachment.target(), before);
      i.attachment = restored;
      i.node = to;
      resolvConf(i.namespace(), to);
      tUp = System.nanoTime();
      i.attachment = to.publish(restored, loc -> orchestration().migrate(before.service(), before.ordinal(), loc).instance(before.ordinal()));
    }
    long tPub = System.nanoTime();
    return new Migration(before.key(), from, to, buffering, watch, tFreeze, tUp, tPub);
  }

  private static void resolvConf(String instanceNs, WorkerNode node) {
    try {
      Files.writeString(Path.of("/etc/netns", instanceNs, "resolv.conf"), "nameserver " + Addresses.format(node.gatewayIpv4()) + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public List<Instance> instances() {
    return List.copyOf(instances);
  }

  public List<WorkerNode> workers() {
    return List.copyOf(workers.values());
  }

  /** Polls {@code condition} for up to 20 s. */
  public static void waitFor(java.util.function.BooleanSupplier condition, String what) {
    waitFor(condition, what, Duration.ofSeconds(20));
  }

  /** {@link #waitFor(java.util.function.BooleanSupplier, String)} for at most {@code limit}. */
  public static void waitFor(java.util.function.BooleanSupplier condition, String what, Duration limit) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  private void closeQuietly() {
    try {
      close();
    } catch (RuntimeException e) {
      System.err.println("cluster clean-up failed: " + e);
    }
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    instances.forEach(Instance::stopProcesses);
    List<WorkerNode> ws = new ArrayList<>(workers.values());
    java.util.Collections.reverse(ws);
    for (WorkerNode w : ws) {
      try {
        w.close();
      } catch (RuntimeException e) {
        System.err.println("closing " + w.nodeId() + " failed: " + e);
      }
    }
    for (Instance i : instances) {
      deleteTree(Path.of("/etc/netns", i.namespace()));
    }
    namespaces.close();
    underlay.close();
    controlPlane.close();
    deleteTree(workDir);
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException ignored) {
      // already shutting down
    }
  }

  static void deleteTree(Path p) {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      s.sorted(Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
    } catch (IOException ignored) {
      // best effort
    }
  }
}
