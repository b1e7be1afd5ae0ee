package io.semnet.core.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.semnet.core.record.InstanceKey;
import io.semnet.core.service.ServiceId;
import org.junit.jupiter.api.Test;

/** The view's active-flow counts: opened one by one, closed one by one or many at once, never below zero. */
class LocalNodeViewFlowsTest {
  @Test
  void flowsClosedAtOnceTakeTheirCountOffAndStopAtZero() {
    LocalNodeView v = new LocalNodeView("n1", null);
    InstanceKey k = InstanceKey.of(ServiceId.of("app", "ns", "server", "ns"), 0);
    for (int i = 0; i < 5; i++) {
      v.flowOpened(k);
    }
    v.flowsClosed(k, 3);
    assertEquals(2, v.activeFlows(k));
    v.flowClosed(k);
    assertEquals(1, v.activeFlows(k));
    v.flowsClosed(k, 7);
    assertEquals(0, v.activeFlows(k), "never below zero");
    v.flowsClosed(InstanceKey.of(ServiceId.of("app", "ns", "other", "ns"), 0), 2); // unknown: nothing
    assertEquals(0, v.activeFlows(InstanceKey.of(ServiceId.of("app", "ns", "other", "ns"), 0)));
  }
}
