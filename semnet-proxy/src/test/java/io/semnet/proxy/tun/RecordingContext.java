package io.semnet.proxy.tun;

import io.semnet.core.node.LocalInstances;
import io.semnet.core.node.NodeComponent;
import io.semnet.core.node.NodeContext;
import io.semnet.core.node.PacketHandler;
import io.semnet.core.node.PacketIo;
import io.semnet.core.node.RouteResolver;
import io.semnet.core.node.Tunnel;
import io.semnet.core.node.TunnelReceiver;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.policy.RoutingPolicyRegistry;
import java.util.concurrent.CompletableFuture;

/** A node context for reader tests: hands packets to {@code handler} and records {@link #fail}. */
record RecordingContext(PacketHandler handler, CompletableFuture<Throwable> failed) implements NodeContext {
  @Override
  public String nodeId() {
    return "t";
  }

  @Override
  public LocalNodeView view() {
    return null;
  }

  @Override
  public RoutingPolicyRegistry policies() {
    return null;
  }

  @Override
  public LocalInstances localInstances() {
    return null;
  }

  @Override
  public PacketIo packetIo() {
    return null;
  }

  @Override
  public PacketHandler packetHandler() {
    return handler;
  }

  @Override
  public Tunnel tunnel() {
    return null;
  }

  @Override
  public TunnelReceiver tunnelReceiver() {
    return null;
  }

  @Override
  public RouteResolver resolver() {
    return null;
  }

  @Override
  public void fail(NodeComponent component, Throwable cause) {
    failed.complete(cause);
  }
}
