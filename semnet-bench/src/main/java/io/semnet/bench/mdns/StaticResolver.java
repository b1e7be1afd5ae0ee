package io.semnet.bench.mdns;

import io.semnet.core.address.Addresses;
import io.semnet.core.address.ServiceIp;
import io.semnet.core.isolation.IsolationRules;
import io.semnet.core.node.NodeContext;
import io.semnet.core.node.RouteResolver;
import io.semnet.core.record.InstanceMetadata;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.Resolution;
import io.semnet.core.route.Route;
import io.semnet.core.route.RouteListener;
import io.semnet.core.service.SemanticName;
import io.semnet.core.service.ServiceId;
import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** A resolver that knows one dual-stack service with two instances and answers at once. */
final class StaticResolver implements RouteResolver {
  static final ServiceId SERVICE = ServiceId.of("shop", "prod", "api", "backend");
  static final ServiceRecord RECORD = ServiceRecord.of(SERVICE, 1,
      List.of(ServiceIp.of(SERVICE, "rr", Addresses.parseLiteral("172.30.0.10")),
          ServiceIp.of(SERVICE, "rr", Addresses.parseLiteral("fdff::10"))),
      List.of(InstanceRecord.of(SERVICE, 0, Addresses.parseLiteral("172.30.1.1"), Addresses.parseLiteral("fdff::1:1"),
              null, InstanceMetadata.NONE),
          InstanceRecord.of(SERVICE, 1, Addresses.parseLiteral("172.30.1.2"), Addresses.parseLiteral("fdff::1:2"),
              null, InstanceMetadata.NONE)));

  @Override
  public CompletionStage<Resolution> resolve(SemanticName name) {
    if (!name.service().equals(SERVICE)) {
      return CompletableFuture.completedFuture(Resolution.notFound("unknown"));
    }
    if (name.isInstance()) {
      InstanceRecord ir = RECORD.instance(name.instance());
      return CompletableFuture.completedFuture(
          ir == null ? Resolution.notFound("no instance") : Resolution.found(Route.of(ir.instanceIpv4(), RECORD)));
    }
    ServiceIp ip = RECORD.serviceIp(name.policy(), true);
    return CompletableFuture.completedFuture(
        ip == null ? Resolution.notFound("no policy") : Resolution.found(Route.of(ip, RECORD)));
  }

  @Override
  public Route cached(InetAddress virtualIp) {
    return null;
  }

  @Override
  public CompletionStage<Resolution> resolve(InetAddress virtualIp) {
    return CompletableFuture.completedFuture(Resolution.notFound("unused"));
  }

  @Override
  public void addListener(RouteListener listener) {}

  @Override
  public void removeListener(RouteListener listener) {}

  @Override
  public IsolationRules isolationRules() {
    return null;
  }

  @Override
  public boolean isOnline() {
    return true;
  }

  @Override
  public void start(NodeContext context) {}

  @Override
  public void close() {}
}
