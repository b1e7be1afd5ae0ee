package io.semnet.node;

import io.semnet.control.InProcessControlPlane;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.record.GeoPoint;
import io.semnet.resolver.NodeRegistration;
import io.semnet.testing.TestNetwork;
import io.semnet.tunnel.NodeKeys;
import java.net.InetSocketAddress;

/** What the node tests share: a worker registered at an in-process control plane, and route listings. */
final class TestNodes {
  private TestNodes() {}

  /** A builder for worker {@code id}, registered in cluster c1 with endpoint {@code underlayIp}:51820, in namespace {@code ns}. */
  static WorkerNodeBuilder builder(InProcessControlPlane cp, AddressPlan plan, String id, String ns, String underlayIp) {
    NodeKeys keys = NodeKeys.generate();
    WorkerEndpoint ep = WorkerEndpoint.of(id, new InetSocketAddress(underlayIp, 51820), keys.publicKey());
    NodeRegistration reg = cp.orchestration().registerNode("c1", ep, GeoPoint.of(48.1, 11.6));
    return WorkerNode.builder(reg).plan(plan).keys(keys).rootTrust(cp.authority().trust())
        .controlTransport(cp.transport()).namespace(ns);
  }

  /** The IPv4 and IPv6 routes of namespace {@code ns}. */
  static String routes(TestNetwork net, String ns) {
    return net.exec(ns, "ip", "route") + net.exec(ns, "ip", "-6", "route");
  }
}
