package io.semnet.proxy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.record.InstanceKey;
import io.semnet.core.service.ServiceId;
import io.semnet.proxy.Harness;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The index of client flows by remote instance: a route-not-found finds exactly the flows to that
 * (peer, namespace address), through adds, re-points and removals in any order, and the index is
 * empty again when the flows are gone (no state left behind).
 */
class FlowsByTargetTest {
  private static final WorkerEndpoint N2 = Harness.N2;
  private static final WorkerEndpoint N3 = Harness.N3;
  private final InstanceKey instance = InstanceKey.of(ServiceId.of("web", "tum", "hello", "prod"), 0);
  private final FlowsByTarget index = new FlowsByTarget();
  private int port = 1000;

  private Flow flow(boolean client, WorkerEndpoint hop, long target) {
    Flow f = new Flow(client, 17, client ? instance : null, null, 0);
    f.out = new Half(Half.EGRESS, false, 17, 0, 1, 0, 2, port++, 53, 0, 3, 0, target, hop, f, 0);
    return f;
  }

  @Test
  void findsExactlyTheFlowsToOneRemoteInstance() {
    List<Flow> toA = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      Flow f = flow(true, N2, 7);
      index.add(f);
      toA.add(f);
    }
    index.add(flow(true, N2, 8));           // another instance on the same peer
    index.add(flow(true, N3, 7));           // the same address on another peer
    index.add(flow(true, null, 7));         // delivered locally: not indexed
    index.add(flow(false, N2, 7));          // server side: not indexed
    assertEquals(Set.copyOf(toA), Set.copyOf(index.flowsTo(N2, false, 0, 7)));
    assertEquals(5, index.flowsTo(N2, false, 0, 7).size());
    assertEquals(0, index.flowsTo(N2, true, 0, 7).size(), "the family is part of the key");
    assertEquals(3, index.targets());

    // remove from the middle, the head and the tail of the list
    for (int i : new int[] {2, 4, 0}) {
      index.remove(toA.get(i), toA.get(i).out);
    }
    assertEquals(Set.of(toA.get(1), toA.get(3)), Set.copyOf(index.flowsTo(N2, false, 0, 7)));
  }

  @Test
  void aRepointedFlowMovesToItsNewTargetAndTheIndexEmpties() {
    Flow a = flow(true, N2, 7);
    Flow b = flow(true, N2, 7);
    index.add(a);
    index.add(b);
    // what Flows.replaceOut does under the table lock
    Half old = a.out;
    index.remove(a, old);
    a.out = old.withTarget(0, 9, N3);
    index.add(a);
    assertEquals(List.of(b), index.flowsTo(N2, false, 0, 7));
    assertEquals(List.of(a), index.flowsTo(N3, false, 0, 9));
    index.remove(b, b.out);
    index.remove(a, a.out);
    assertEquals(0, index.targets(), "no entry left once every flow is gone");
    assertTrue(index.flowsTo(N3, false, 0, 9).isEmpty());
    index.remove(a, a.out); // twice: harmless
    assertEquals(0, index.targets());
  }
}
