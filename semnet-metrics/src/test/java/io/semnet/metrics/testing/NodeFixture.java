package io.semnet.metrics.testing;

import io.semnet.control.InProcessControlPlane;
import io.semnet.control.ServiceDescriptor;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.service.ServiceId;
import io.semnet.node.Attachment;
import io.semnet.node.InstanceTarget;
import io.semnet.node.WorkerNode;
import io.semnet.proxy.tun.NetworkNamespace;
import io.semnet.resolver.NodeRegistration;
import io.semnet.testing.TestNetwork;
import io.semnet.tunnel.NodeKeys;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * What the metrics tests share: an in-process control plane with a web service, a client of it and
 * an outsider the isolation rules keep away from it (one instance each), worker nodes in
 * namespaces, and UDP senders inside instance namespaces.
 */
public final class NodeFixture implements AutoCloseable {
  public static final int PORT = 7000;
  public final AddressPlan plan = AddressPlan.defaults();
  public final ServiceId web = ServiceId.of("web", "tum", "hello", "prod");
  public final ServiceId client = ServiceId.of("cli", "tum", "client", "prod");
  public final ServiceId outsider = ServiceId.of("cli", "evil", "client", "prod");
  public final TestNetwork net = new TestNetwork();
  public final InProcessControlPlane cp = InProcessControlPlane.builder().clusters("c1").plan(plan).build();

  public NodeFixture() {
    for (ServiceId s : new ServiceId[] {web, client, outsider}) {
      cp.orchestration().deploy(ServiceDescriptor.builder(s).instances(1).build());
    }
  }

  /** A worker {@code id} in namespace {@code ns} with its tunnel on {@code underlayIp}:51820 (not started). */
  public WorkerNode node(String id, String ns, String underlayIp) {
    NodeKeys keys = NodeKeys.generate();
    WorkerEndpoint ep = WorkerEndpoint.of(id, new InetSocketAddress(underlayIp, 51820), keys.publicKey());
    NodeRegistration reg = cp.orchestration().registerNode("c1", ep, GeoPoint.of(48.1, 11.6));
    return WorkerNode.builder(reg).plan(plan).keys(keys).rootTrust(cp.authority().trust())
        .controlTransport(cp.transport()).namespace(ns).nameResponder(false).build();
  }

  /** Attaches namespace {@code ns} as instance 0 of {@code s} on {@code node}. */
  public Attachment place(WorkerNode node, String ns, ServiceId s) {
    return node.attach(InstanceTarget.netns(ns), loc -> cp.orchestration().placeInstance(s, 0, loc).instance(0));
  }

  public InetAddress serviceIp(ServiceId s) {
    return cp.orchestration().record(s).serviceIp("rr", true).address();
  }

  /** A UDP server on {@link #PORT} in namespace {@code ns}. */
  public static DatagramSocket listen(String ns) throws Exception {
    DatagramSocket s = NetworkNamespace.run(ns, () -> new DatagramSocket(new InetSocketAddress("0.0.0.0", PORT)));
    s.setSoTimeout(100);
    return s;
  }

  /** From a fresh socket (one flow), sends every 100 ms until {@code server} receives one; at most 10 s. */
  public static boolean sendUntilReceived(String ns, InetAddress src, InetAddress dst, DatagramSocket server) throws Exception {
    try (DatagramSocket s = NetworkNamespace.run(ns, () -> new DatagramSocket(new InetSocketAddress(src, 0)))) {
      for (int i = 0; i < 100; i++) {
        s.send(new DatagramPacket("hello".getBytes(StandardCharsets.US_ASCII), 5, new InetSocketAddress(dst, PORT)));
        try {
          server.receive(new DatagramPacket(new byte[64], 64));
          return true;
        } catch (SocketTimeoutException e) {
          // parked while the route is fetched, a handshake, or ARP
        }
      }
    }
    return false;
  }

  /** Sends {@code count} datagrams 20 ms apart from one socket, then gives the node 300 ms to take them. */
  public static void sendBlind(String ns, InetAddress src, InetAddress dst, int count) throws Exception {
    try (DatagramSocket s = NetworkNamespace.run(ns, () -> new DatagramSocket(new InetSocketAddress(src, 0)))) {
      for (int i = 0; i < count; i++) {
        s.send(new DatagramPacket("nope".getBytes(StandardCharsets.US_ASCII), 4, new InetSocketAddress(dst, PORT)));
        Thread.sleep(20);
      }
    }
    Thread.sleep(300);
  }

  @Override
  public void close() {
    cp.close();
    net.close();
  }
}
