import io.semnet.control.InProcessControlPlane;
import io.semnet.control.ServiceDescriptor;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.service.ServiceId;
import io.semnet.node.InstanceTarget;
import io.semnet.node.WorkerNode;
import io.semnet.resolver.NodeRegistration;
import io.semnet.tunnel.NodeKeys;
import java.net.InetSocketAddress;

public final class ReadmeWorker {
  /** Registers worker w1, runs it in namespace nodeNs (null: here) and serves a web instance living in instanceNs. */
  public static WorkerNode run(InProcessControlPlane cp, AddressPlan plan, String nodeNs, String instanceNs) throws Exception {
    NodeKeys keys = NodeKeys.generate();                           // the tunnel key the root certifies
    WorkerEndpoint endpoint = WorkerEndpoint.of("w1", new InetSocketAddress("10.99.0.1", 51820), keys.publicKey());
    NodeRegistration reg = cp.orchestration().registerNode("c1", endpoint, GeoPoint.of(48.14, 11.58));
    WorkerNode node = WorkerNode.builder(reg)                      // id, manager, subnets, certificate: from reg
        .plan(plan).keys(keys).rootTrust(cp.authority().trust())
        .controlTransport(cp.transport())                          // across machines: an MqttTransport
        .namespace(nodeNs)
        .build().start();                                          // bridge, TUN, routes, tunnel, resolver, DNS
    ServiceId web = ServiceId.of("web", "tum", "hello", "prod");
    cp.orchestration().deploy(ServiceDescriptor.builder(web).instances(1).build());
    node.attach(InstanceTarget.netns(instanceNs),                  // or InstanceTarget.pid(containerPid)
        loc -> cp.orchestration().placeInstance(web, 0, loc).instance(0));
    return node;                                                   // node.close() undoes all of it
  }
}
