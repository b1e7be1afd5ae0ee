package io.semnet.proxy.internal;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.node.Tunnel;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.RouteListener;
import io.semnet.core.service.ServiceId;
import io.semnet.proxy.Counter;
import io.semnet.proxy.internal.packet.AddressWords;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Keeps client flows pointed at their instance's current place: a route-not-found from a peer
 * re-resolves the flows that chose that instance there (found through the flows' index by remote
 * instance, not by scanning the table); a pushed record change re-points the
 * service's flows (and releases migration holds it shows moved); a removed service closes its
 * flows. A re-pointed flow keeps its key and gets a new egress half, swapped atomically for
 * readers. Control thread (and resolver callbacks); never on the data path.
 */
public final class Repointing {
  private final Flows flows;
  private final FlowTable table;
  private final ThreadScratches scratches;
  private final Control control;
  private final MigrationHolds holds;
  private final Health health;
  /** Longest a pushed move waits for the tunnel link to the new place before switching anyway. */
  private static final long READY_WAIT_NANOS = 2_000_000_000L;
  private final RouteListener listener = new Listener();
  private Wiring wiring;

  Repointing(Flows flows, FlowTable table, ThreadScratches scratches, Control control, MigrationHolds holds,
      Health health) {
    this.health = health;
    this.flows = flows;
    this.table = table;
    this.scratches = scratches;
    this.control = control;
    this.holds = holds;
  }

  void start(Wiring w) {
    this.wiring = w;
  }

  /** Listens for pushed record changes and removed services. */
  RouteListener listener() {
    return listener;
  }

  /** Peer {@code from} has no instance at {@code namespaceIp} (any more): re-resolve the flows that went there. */
  public void onRouteNotFound(WorkerEndpoint from, InetAddress namespaceIp) {
    scratches.get().counts[Counter.ROUTE_NOT_FOUND_RECEIVED.ordinal()]++;
    control.execute(() -> reresolveFlowsTo(from, namespaceIp));
  }

  private void reresolveFlowsTo(WorkerEndpoint from, InetAddress namespaceIp) {
    boolean v6 = namespaceIp instanceof Inet6Address;
    long nHi = AddressWords.hi(namespaceIp);
    long nLo = AddressWords.lo(namespaceIp);
    Map<InetAddress, List<Kept>> byTarget = new HashMap<>();
    for (Flow f : flows.clientFlowsTo(from, v6, nHi, nLo)) {
      byTarget.computeIfAbsent(f.virtualDst, k -> new ArrayList<>()).add(new Kept(f, f.gen, f.instance.ordinal(), f.health));
    }
    for (Map.Entry<InetAddress, List<Kept>> e : byTarget.entrySet()) {
      wiring.resolver().resolve(e.getKey()).whenComplete((res, err) -> {
        // Any thread, later: the flows may have been removed and recycled since; their generation tells.
        ThreadScratch w = scratches.get();
        w.beginSection();
        try {
          for (Kept k : e.getValue()) {
            InstanceRecord inst = null;
            if (err == null && res != null && res.isFound()) {
              inst = res.route().record().instance(k.ordinal());
            }
            repoint(k.flow(), k.gen(), k.health(), inst, true);
          }
        } finally {
          w.endSection();
        }
      });
    }
  }

  /** A flow kept across an asynchronous step, with its generation, its instance's ordinal and health cell then. */
  private record Kept(Flow flow, int gen, int ordinal, Health.Cell health) {}

  /**
   * Points a client flow at its instance's current place. With {@code mustMove}, a flow whose
   * instance is gone or unchanged is dropped so its next packet chooses afresh (unchanged: a
   * failure of the instance, reported to its health {@code cell}). Nothing happens if
   * the flow was recycled since generation {@code gen} (what is read of it may then be another
   * conversation's; every change is checked against the generation under the table's lock).
   */
  private void repoint(Flow f, int gen, Health.Cell cell, InstanceRecord inst, boolean mustMove) {
    repoint(f, gen, cell, inst, mustMove, 0);
  }

  /**
   * {@link #repoint(Flow, int, Health.Cell, InstanceRecord, boolean)}; a pushed move to a peer whose
   * tunnel link is not ready yet (a first contact: handshake) keeps the flow on its old place, which
   * forwards its packets during the migration linger, and tries again every millisecond for at most
   * {@link #READY_WAIT_NANOS} since {@code waitingSince} (0: not waiting yet): switching at once
   * would queue the stream behind the handshake, and the link's small queue would drop it.
   */
  private void repoint(Flow f, int gen, Health.Cell cell, InstanceRecord inst, boolean mustMove, long waitingSince) {
    Half old = f.out;
    if (f.removed || f.gen != gen) {
      return;
    }
    if (inst == null || !inst.reachableOver(!old.v6)) {
      flows.remove(f, gen);
      return;
    }
    InetAddress target = inst.locator().namespaceIp(!old.v6);
    WorkerEndpoint hop = wiring.nextHop(target, inst.locator());
    long tHi = AddressWords.hi(target);
    long tLo = AddressWords.lo(target);
    if (tHi == old.nDstHi && tLo == old.nDstLo && Objects.equals(hop, old.nextHop)) {
      if (mustMove) {
        // its record still places it where the node said it is not: a failure of the instance
        if (flows.remove(f, gen) && cell != null) {
          health.routeNotFound(scratches.get(), cell, Forwarder.clock());
        }
      }
      return;
    }
    Tunnel tunnel = wiring.tunnel();
    if (!mustMove && hop != null && old.nextHop != null && tunnel != null && !tunnel.isReady(hop)) {
      long now = System.nanoTime();
      long since = waitingSince == 0 ? now : waitingSince;
      if (now - since < READY_WAIT_NANOS && control.schedule(() -> repoint(f, gen, cell, inst, false, since), 1)) {
        return;
      }
    }
    if (flows.replaceOut(f, gen, old, old.withTarget(tHi, tLo, hop))) {
      scratches.get().counts[Counter.FLOWS_REPOINTED.ordinal()]++;
    }
  }

  private void repointService(ServiceRecord current) {
    for (Flow f : clientFlowsOf(current.service())) {
      repoint(f, f.gen, f.health, current.instance(f.instance.ordinal()), false);
    }
  }

  private List<Flow> clientFlowsOf(ServiceId service) {
    List<Flow> found = new ArrayList<>();
    table.forEach(h -> {
      if (h.dir == Half.EGRESS && h.flow.client && h.flow.instance.service().equals(service)) {
        found.add(h.flow);
      }
    });
    return found;
  }

  private final class Listener implements RouteListener {
    @Override
    public void onRecordUpdated(ServiceRecord previous, ServiceRecord current) {
      control.execute(() -> {
        holds.checkHolds(current);
        repointService(current);
      });
    }

    @Override
    public void onServiceRemoved(ServiceId service) {
      control.execute(() -> clientFlowsOf(service).forEach(flows::remove));
    }
  }
}
