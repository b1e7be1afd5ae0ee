package io.semnet.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.control.InProcessControlPlane;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.record.GeoPoint;
import io.semnet.resolver.NodeRegistration;
import io.semnet.tunnel.NodeKeys;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What {@link WorkerNodeBuilder#build()} refuses, and the MTU it derives; nothing here touches the system. */
class WorkerNodeBuilderTest {
  private final AddressPlan plan = AddressPlan.defaults();
  private final InProcessControlPlane cp = InProcessControlPlane.builder().clusters("c1").plan(plan).build();

  @AfterEach
  void close() {
    cp.close();
  }

  private NodeRegistration register(String id, String ip, NodeKeys keys) {
    return cp.orchestration().registerNode("c1", WorkerEndpoint.of(id, new InetSocketAddress(ip, 51820), keys.publicKey()),
        GeoPoint.of(48.1, 11.6));
  }

  @Test
  void tunMtuLeavesRoomForTheTunnelsOverhead() {
    NodeKeys keys = NodeKeys.generate();
    try (WorkerNode v4 = WorkerNode.builder(register("w1", "10.99.0.1", keys)).plan(plan).keys(keys)
        .rootTrust(cp.authority().trust()).controlTransport(cp.transport()).build()) {
      int overhead = v4.tunnel().overheadBytes(false);
      assertTrue(overhead > 28, "outer IPv4 + UDP + header + tag, got " + overhead);
      assertEquals(1500 - overhead, v4.tunMtu());
    }
    NodeKeys k6 = NodeKeys.generate();
    try (WorkerNode v6 = WorkerNode.builder(register("w2", "fd99::2", k6)).plan(plan).keys(k6).underlayMtu(9000)
        .rootTrust(cp.authority().trust()).controlTransport(cp.transport()).build()) {
      assertEquals(9000 - v6.tunnel().overheadBytes(true), v6.tunMtu());
      assertEquals(20, v6.tunnel().overheadBytes(true) - v6.tunnel().overheadBytes(false), "an IPv6 outer header is 20 bytes longer");
    }
  }

  @Test
  void buildNamesEverythingMissingOrInconsistent() {
    NodeKeys keys = NodeKeys.generate();
    NodeRegistration reg = register("w1", "10.99.0.1", keys);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> WorkerNode.builder(reg).build());
    assertTrue(e.getMessage().contains("plan") && e.getMessage().contains("rootTrust") && e.getMessage().contains("controlTransport")
        && e.getMessage().contains("keys"), e.getMessage());

    IllegalStateException wrongKey = assertThrows(IllegalStateException.class, () -> WorkerNode.builder(reg).plan(plan)
        .keys(NodeKeys.generate()).rootTrust(cp.authority().trust()).controlTransport(cp.transport()).build());
    assertTrue(wrongKey.getMessage().contains("not the one registered"), wrongKey.getMessage());

    NodeKeys k9 = NodeKeys.generate();
    WorkerEndpoint w9 = WorkerEndpoint.of("w9", new InetSocketAddress("10.99.0.9", 51820), k9.publicKey());
    IllegalStateException otherResolver = assertThrows(IllegalStateException.class, () -> WorkerNode.builder(reg).plan(plan)
        .keys(keys).rootTrust(cp.authority().trust()).resolver(cp.addWorker("c1", w9, null)).build());
    assertTrue(otherResolver.getMessage().contains("the resolver is for node 'w9'"), otherResolver.getMessage());
  }

  @Test
  void badNamesAreRefused() {
    NodeKeys keys = NodeKeys.generate();
    WorkerNodeBuilder b = WorkerNode.builder(register("w1", "10.99.0.1", keys));
    assertThrows(IllegalArgumentException.class, () -> b.bridgeName("a-bridge-name-too-long"));
    assertThrows(IllegalArgumentException.class, () -> b.namespace("../etc"));
    assertThrows(IllegalArgumentException.class, () -> b.underlayMtu(576));
    assertThrows(IllegalArgumentException.class, () -> InstanceTarget.pid(0));
    assertThrows(IllegalArgumentException.class, () -> InstanceTarget.netns("a/b"));
    assertThrows(IllegalArgumentException.class, () -> InstanceTarget.netns("x").withInterfaceName("sixteen-chars-xx"));
  }
}
