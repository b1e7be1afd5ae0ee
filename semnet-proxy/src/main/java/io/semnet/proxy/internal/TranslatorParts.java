package io.semnet.proxy.internal;

import io.semnet.core.node.NodeContext;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The parts of one translator, wired to each other, and their life: {@link #start} hands every
 * part the node's other layers and starts the control thread with its periodic {@link #sweep};
 * {@link #close} stops it and forgets all flows. {@code io.semnet.proxy.SemnetTranslator} is the
 * public façade over these parts; nothing here is API.
 *
 * <table>
 *   <caption>Parts</caption>
 *   <tr><th>Part</th><th>Owns</th></tr>
 *   <tr><td>{@link Forwarder}</td><td>the per-packet path: parse, look up, rewrite, send</td></tr>
 *   <tr><td>{@link FlowSetup}</td><td>first packets: choose an instance or learn a flow</td></tr>
 *   <tr><td>{@link Flows}</td><td>insert, evict, expire, remove flows</td></tr>
 *   <tr><td>{@link IcmpHandler}</td><td>translating ICMP errors, sending them</td></tr>
 *   <tr><td>{@link SourceCheck}</td><td>cryptokey routing: which sources a peer may use</td></tr>
 *   <tr><td>{@link Parking}</td><td>packets waiting for a route (or their source's)</td></tr>
 *   <tr><td>{@link MigrationHolds}</td><td>instances migrating away</td></tr>
 *   <tr><td>{@link ReplayGates}</td><td>instances restored here: in-order delivery across the move</td></tr>
 *   <tr><td>{@link Repointing}</td><td>flows following their instance</td></tr>
 *   <tr><td>{@link Health}</td><td>passive health of chosen instances, ejection</td></tr>
 * </table>
 */
public final class TranslatorParts {
  private static final Logger log = LoggerFactory.getLogger(TranslatorParts.class);

  private final TranslatorConfig config;
  private final ThreadScratches scratches = new ThreadScratches();
  private final Control control = new Control(scratches);
  private final FlowTable table;
  private final ServiceTallies tallies = new ServiceTallies(ServiceTallies.DEFAULT_CAP, scratches);
  private final Flows flows;
  private final InstanceChooser chooser = new InstanceChooser();
  private final Health health;
  private final IcmpHandler icmp;
  private final FlowSetup setup;
  private final SourceCheck sources;
  private final Forwarder forwarder;
  private final Parking parking;
  private final MigrationHolds holds;
  private final ReplayGates gates;
  private final Repointing repointing;
  private Wiring wiring;

  public TranslatorParts(TranslatorConfig config) {
    this.config = config;
    this.table = new FlowTable(config.maxFlows() * 2);
    this.flows = new Flows(config, table);
    flows.connect(scratches);
    this.icmp = new IcmpHandler(config, table);
    this.health = new Health(config.health());
    this.setup = new FlowSetup(flows, tallies, chooser, icmp, health);
    this.sources = new SourceCheck(config);
    this.forwarder = new Forwarder(config, table, flows, scratches, setup, icmp, sources, health);
    this.parking = new Parking(config, forwarder, scratches, control, icmp);
    this.holds = new MigrationHolds(config, forwarder, setup, flows, table, scratches, control);
    this.gates = new ReplayGates(forwarder, scratches, control, sources);
    this.repointing = new Repointing(flows, table, scratches, control, holds, health);
    setup.connect(parking);
    sources.connect(parking);
    forwarder.connect(holds, gates, parking);
  }

  /** Wires the parts to the node's layers and starts the control thread. */
  public void start(NodeContext context) {
    Objects.requireNonNull(context, "context");
    Wiring w = Wiring.of(context, config);
    this.wiring = w;
    flows.start(w);
    chooser.start(w);
    health.start(w);
    icmp.start(w);
    setup.start(w);
    sources.start(w);
    forwarder.start(w);
    parking.start(w);
    holds.start(w);
    repointing.start(w);
    w.resolver().addListener(repointing.listener());
    w.locals().addListener(holds.homeListener());
    control.start(w.nodeId(), this::sweep, config.sweepMs());
    log.debug("translator of {} started: largest inner packet {} bytes, {} flows max", w.nodeId(), w.maxInner(),
        config.maxFlows());
  }

  /** Stops the control thread and forgets every flow; does nothing unless started. */
  public void close() {
    if (!control.stop()) {
      return;
    }
    wiring.resolver().removeListener(repointing.listener());
    wiring.locals().removeListener(holds.homeListener());
    control.shutdown();
    flows.clear();
  }

  /** Expires idle flows, stale fragment entries, parked packets and holds; runs on the control thread. */
  public void sweep() {
    ThreadScratch w = scratches.get();
    w.beginSection();
    try {
      long t = Forwarder.clock();
      forwarder.setNow(t);
      flows.sweep(t, w);
      parking.sweep(t, w);
      holds.sweep(w);
      gates.sweep(w);
      health.sweep(w, t);
    } catch (RuntimeException e) {
      log.warn("flow sweep failed", e);
    } finally {
      w.endSection();
    }
  }

  public Forwarder forwarder() {
    return forwarder;
  }

  public Flows flows() {
    return flows;
  }

  public Parking parking() {
    return parking;
  }

  public MigrationHolds holds() {
    return holds;
  }

  public ReplayGates gates() {
    return gates;
  }

  public Repointing repointing() {
    return repointing;
  }

  public ServiceTallies tallies() {
    return tallies;
  }

  /** Passive health and ejection (package-private part; exposed for tests). */
  Health health() {
    return health;
  }

  public ThreadScratches scratches() {
    return scratches;
  }
}
