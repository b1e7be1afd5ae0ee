package io.semnet.testing;

import io.semnet.core.address.Addresses;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceMetadata;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.service.ServiceId;
import java.net.InetSocketAddress;

/** Small builders of core values for tests in every module. */
public final class Fixtures {
  private Fixtures() {}

  public static final ServiceId SERVICE = ServiceId.of("test", "tum", "login", "dev");

  /** A worker endpoint on 192.0.2.x (documentation range; never contacted) with a zero key. */
  public static WorkerEndpoint worker(String nodeId, int hostByte) {
    return WorkerEndpoint.of(nodeId, new InetSocketAddress(Addresses.parseLiteral("192.0.2." + hostByte), 50000), new byte[32]);
  }

  /**
   * A node context holding only an id, a view and a resolver (e.g. to start a worker resolver
   * outside a node, so availability hints reach {@code view}).
   */
  public static io.semnet.core.node.NodeContext context(String nodeId, io.semnet.core.policy.LocalNodeView view,
      io.semnet.core.node.RouteResolver resolver) {
    return new io.semnet.core.node.NodeContext() {
      @Override
      public String nodeId() {
        return nodeId;
      }

      @Override
      public io.semnet.core.policy.LocalNodeView view() {
        return view;
      }

      @Override
      public io.semnet.core.policy.RoutingPolicyRegistry policies() {
        return io.semnet.core.policy.RoutingPolicyRegistry.getDefaultRegistry();
      }

      @Override
      public io.semnet.core.node.LocalInstances localInstances() {
        return new io.semnet.core.node.LocalInstances();
      }

      @Override
      public io.semnet.core.node.PacketIo packetIo() {
        return null;
      }

      @Override
      public io.semnet.core.node.PacketHandler packetHandler() {
        return null;
      }

      @Override
      public io.semnet.core.node.Tunnel tunnel() {
        return null;
      }

      @Override
      public io.semnet.core.node.TunnelReceiver tunnelReceiver() {
        return null;
      }

      @Override
      public io.semnet.core.node.RouteResolver resolver() {
        return resolver;
      }
    };
  }

  /** Instance {@code ordinal} of {@link #SERVICE} on node {@code nodeId}, dual-stack, with metadata. */
  public static InstanceRecord instance(int ordinal, String nodeId, double capacity, GeoPoint location) {
    Locator loc = Locator.of(
        Addresses.parseLiteral("172.16.0." + (2 + ordinal)),
        Addresses.parseLiteral("fdec:5e00::" + Integer.toHexString(2 + ordinal)),
        worker(nodeId, 1 + (nodeId.hashCode() & 0x7f)), 1);
    return InstanceRecord.of(SERVICE, ordinal,
        Addresses.parseLiteral("172.30.1." + (1 + ordinal)),
        Addresses.parseLiteral("fdec:5e00:ffff::" + Integer.toHexString(0x100 + ordinal)),
        loc, InstanceMetadata.of(location, capacity, ""));
  }
}
