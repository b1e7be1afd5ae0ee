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
      byTarget.computeIfAbsent(f.virtualDst, k -> new ArrayList<>()).add(new Kept(f, f.gen, f.instance.ordinal()));
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
            repoint(k.flow(), k.gen(), inst, true);
          }
        } finally {
          w.endSection();
        }
      });
    }
  }

  /** A flow kept across an asynchronous step, with its generation and its instance's ordinal then. */
  private record Kept(Flow flow, int gen, int ordinal) {}

  /**
   * Points a client flow at its instance's current place. With {@code mustMove}, a flow whose
   * instance is gone or unchanged is dropped so its next packet chooses afresh. Nothing happens if
   * the flow was recycled since generation {@code gen} (what is read of it may then be another
   * conversation's; every change is checked against the generation under the table's lock).
   */
  private void repoint(Flow f, int gen, InstanceRecord inst, boolean mustMove) {
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
        health.routeNotFound(scratches.get(), f, Forwarder.clock());
        flows.remove(f, gen);
      }
      return;
    }
    Tunnel tunnel = wiring.tunnel();
    if (!mustMove && hop != null && old.nextHop != null && tunnel != null) {
      // Starts the handshake with a new place now, without waiting for it: a flow kept on the old
      // place until the link is ready switched after the replay end had opened the destination's
      // gate, and its direct packets overtook those the old place still forwarded (211 reordered
      // at the instance in one move at load 20-30).
      tunnel.isReady(hop);
    }
    if (flows.replaceOut(f, gen, old, old.withTarget(tHi, tLo, hop))) {
      scratches.get().counts[Counter.FLOWS_REPOINTED.ordinal()]++;
    }
  }

  private void repointService(ServiceRecord current) {
    for (Flow f : clientFlowsOf(current.service())) {
      repoint(f, f.gen, current.instance(f.instance.ordinal()), false);
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
