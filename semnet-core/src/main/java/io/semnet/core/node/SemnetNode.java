package io.semnet.core.node;

import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.policy.RoutingPolicyRegistry;
import io.semnet.core.record.GeoPoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lifecycle container of a SemNet node's layers. A complete worker is assembled by
 * {@code io.semnet.node.WorkerNode.builder(registration)} (module {@code semnet-node}), which runs
 * its layers in a {@code SemnetNode}; use this class directly only to run a subset of the layers
 * (a resolver alone, a translator in a test).
 *
 * <pre>{@code
 * SemnetNode node = SemnetNode.builder("worker-1")
 *     .resolver(resolver)
 *     .tunnel(tunnel)
 *     .translator(translator)
 *     .packetIo(tun)
 *     .nameResponder(dns)
 *     .build();
 * node.start();
 * ...
 * node.close();
 * }</pre>
 *
 * <p>Components start in dependency order (resolver, tunnel, translator, packet I/O, name
 * responder) and close in reverse. If one fails to start, those already started are closed and
 * {@link #start()} throws. {@link Builder#build()} rejects inconsistent assemblies with a message naming
 * the missing part. Thread-safe lifecycle; start at most once.
 */
public final class SemnetNode implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SemnetNode.class);

  private enum State { NEW, STARTING, RUNNING, CLOSED, FAILED }

  private final Context context;
  private final List<NodeComponent> order;
  private final List<NodeComponent> started = new ArrayList<>();
  private State state = State.NEW;
  private Throwable failure;

  private SemnetNode(Builder b) {
    LocalNodeView view = b.view != null ? b.view : new LocalNodeView(b.nodeId, b.location);
    if (!view.localNodeId().equals(b.nodeId)) {
      throw new IllegalStateException("node view belongs to '" + view.localNodeId() + "', not '" + b.nodeId + "'");
    }
    this.context = new Context(b, view);
    List<NodeComponent> o = new ArrayList<>();
    if (b.resolver != null) {
      o.add(b.resolver);
    }
    if (b.tunnel != null) {
      o.add(b.tunnel);
    }
    if (b.translator != null) {
      o.add(b.translator);
    }
    if (b.packetIo != null) {
      o.add(b.packetIo);
    }
    if (b.nameResponder != null) {
      o.add(b.nameResponder);
    }
    this.order = List.copyOf(o);
  }

  public static Builder builder(String nodeId) {
    return new Builder(nodeId);
  }

  /** Starts all components in order. */
  public synchronized void start() throws Exception {
    if (state != State.NEW) {
      throw new IllegalStateException("node " + context.nodeId + " is " + state + ", it can only be started once");
    }
    state = State.STARTING;
    for (NodeComponent c : order) {
      try {
        c.start(context);
        started.add(c);
      } catch (Exception | Error e) {
        log.error("node {}: {} failed to start; stopping the rest", context.nodeId, c.getClass().getSimpleName(), e);
        closeStarted();
        state = State.CLOSED;
        throw e;
      }
    }
    state = State.RUNNING;
    log.info("node {} started with {}", context.nodeId, describe());
  }

  /**
   * A component failed beyond recovery: log loudly, enter the failed state and close every
   * component on a thread of its own (the caller may be the failed component's own thread).
   */
  private void failed(NodeComponent component, Throwable cause) {
    synchronized (this) {
      if (state == State.CLOSED || state == State.FAILED) {
        return;
      }
      state = State.FAILED;
      failure = cause;
    }
    log.error("node {} FAILED: {} cannot go on; stopping the node", context.nodeId,
        component == null ? "a component" : component.getClass().getSimpleName(), cause);
    Thread t = new Thread(() -> {
      synchronized (this) {
        closeStarted();
      }
    }, "semnet-node-" + context.nodeId + "-failed");
    t.setDaemon(true);
    t.start();
  }

  /** True once a component failed beyond recovery; the node stopped itself ({@link #failure()} says why). */
  public synchronized boolean isFailed() {
    return state == State.FAILED;
  }

  /** What made the node fail, or null. */
  public synchronized Throwable failure() {
    return failure;
  }

  /** Closes all started components in reverse order. Idempotent; a failed node stays failed. */
  @Override
  public synchronized void close() {
    if (state == State.CLOSED || state == State.FAILED) {
      closeStarted();
      return;
    }
    closeStarted();
    state = State.CLOSED;
  }

  private void closeStarted() {
    for (int i = started.size() - 1; i >= 0; i--) {
      NodeComponent c = started.get(i);
      try {
        c.close();
      } catch (RuntimeException e) {
        log.warn("node {}: closing {} failed", context.nodeId, c.getClass().getSimpleName(), e);
      }
    }
    started.clear();
  }

  public synchronized boolean isRunning() {
    return state == State.RUNNING;
  }

  public NodeContext context() {
    return context;
  }

  public String nodeId() {
    return context.nodeId;
  }

  public LocalInstances localInstances() {
    return context.localInstances;
  }

  public LocalNodeView view() {
    return context.view;
  }

  private String describe() {
    StringBuilder sb = new StringBuilder();
    for (NodeComponent c : order) {
      sb.append(sb.length() == 0 ? "" : ", ").append(c.getClass().getSimpleName());
    }
    return sb.toString();
  }

  /** Assembles a {@link SemnetNode}. Not thread-safe. */
  public static final class Builder {
    private final String nodeId;
    private GeoPoint location;
    private LocalNodeView view;
    private RoutingPolicyRegistry policies;
    private LocalInstances localInstances;
    private PacketIo packetIo;
    private PacketTranslator translator;
    private Tunnel tunnel;
    private RouteResolver resolver;
    private NameResponder nameResponder;

    private Builder(String nodeId) {
      this.nodeId = Objects.requireNonNull(nodeId, "nodeId");
      if (nodeId.isEmpty()) {
        throw new IllegalArgumentException("nodeId is empty");
      }
    }

    /** The node's location, used by location-aware policies when no RTT is known. */
    public Builder location(GeoPoint location) {
      this.location = location;
      return this;
    }

    /** Shares an existing view (default: a new one). */
    public Builder view(LocalNodeView view) {
      this.view = view;
      return this;
    }

    /** Policy registry (default: {@link RoutingPolicyRegistry#getDefaultRegistry()}). */
    public Builder policies(RoutingPolicyRegistry policies) {
      this.policies = policies;
      return this;
    }

    /** Shares an existing local-instance table (default: a new one). */
    public Builder localInstances(LocalInstances localInstances) {
      this.localInstances = localInstances;
      return this;
    }

    public Builder packetIo(PacketIo packetIo) {
      this.packetIo = packetIo;
      return this;
    }

    public Builder translator(PacketTranslator translator) {
      this.translator = translator;
      return this;
    }

    public Builder tunnel(Tunnel tunnel) {
      this.tunnel = tunnel;
      return this;
    }

    public Builder resolver(RouteResolver resolver) {
      this.resolver = resolver;
      return this;
    }

    public Builder nameResponder(NameResponder nameResponder) {
      this.nameResponder = nameResponder;
      return this;
    }

    /**
     * Checks the assembly and builds the node (not started).
     *
     * @throws IllegalStateException naming what is missing or inconsistent
     */
    public SemnetNode build() {
      List<String> problems = new ArrayList<>();
      if (translator != null && packetIo == null) {
        problems.add("a translator needs packet I/O (a TUN device) to read from");
      }
      if (translator != null && resolver == null) {
        problems.add("a translator needs a route resolver");
      }
      if (packetIo != null && translator == null) {
        problems.add("packet I/O needs a translator to hand packets to");
      }
      if (tunnel != null && translator == null) {
        problems.add("a tunnel needs a translator to deliver received packets to");
      }
      if (nameResponder != null && resolver == null) {
        problems.add("a name responder needs a route resolver");
      }
      if (packetIo == null && tunnel == null && resolver == null && nameResponder == null) {
        problems.add("a node needs at least one component");
      }
      if (!problems.isEmpty()) {
        throw new IllegalStateException("node '" + nodeId + "' cannot be assembled: " + String.join("; ", problems));
      }
      return new SemnetNode(this);
    }
  }

  private final class Context implements NodeContext {
    final String nodeId;
    final LocalNodeView view;
    final RoutingPolicyRegistry policies;
    final LocalInstances localInstances;
    final PacketIo packetIo;
    final PacketTranslator translator;
    final Tunnel tunnel;
    final RouteResolver resolver;

    Context(Builder b, LocalNodeView view) {
      this.nodeId = b.nodeId;
      this.view = view;
      this.policies = b.policies != null ? b.policies : RoutingPolicyRegistry.getDefaultRegistry();
      this.localInstances = b.localInstances != null ? b.localInstances : new LocalInstances();
      this.packetIo = b.packetIo;
      this.translator = b.translator;
      this.tunnel = b.tunnel;
      this.resolver = b.resolver;
    }

    @Override
    public String nodeId() {
      return nodeId;
    }

    @Override
    public void fail(NodeComponent component, Throwable cause) {
      failed(component, cause);
    }

    @Override
    public LocalNodeView view() {
      return view;
    }

    @Override
    public RoutingPolicyRegistry policies() {
      return policies;
    }

    @Override
    public LocalInstances localInstances() {
      return localInstances;
    }

    @Override
    public PacketIo packetIo() {
      return packetIo;
    }

    @Override
    public PacketHandler packetHandler() {
      return translator;
    }

    @Override
    public Tunnel tunnel() {
      return tunnel;
    }

    @Override
    public TunnelReceiver tunnelReceiver() {
      return translator;
    }

    @Override
    public RouteResolver resolver() {
      return resolver;
    }
  }
}
