package io.semnet.mdns.testing;

import io.semnet.core.address.Addresses;
import io.semnet.core.address.InstanceIp;
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
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A route resolver for tests: answers from records the test puts in, after a per-service delay the
 * test controls, on its own thread (as the real resolver does). Counts calls per name.
 */
public final class FakeResolver implements RouteResolver {
  private final Map<ServiceId, ServiceRecord> records = new ConcurrentHashMap<>();
  private final Map<ServiceId, Long> delaysMillis = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
  private final List<RouteListener> listeners = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService exec = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "fake-resolver");
    t.setDaemon(true);
    return t;
  });
  private volatile boolean unavailable;

  /** A dual-stack service with ServiceIPs for {@code rr} and instances 0..n-1. */
  public static ServiceRecord record(ServiceId id, long version, String serviceV4, String serviceV6, String... instanceV4V6) {
    List<ServiceIp> ips = List.of(
        ServiceIp.of(id, "rr", Addresses.parseLiteral(serviceV4)),
        ServiceIp.of(id, "rr", Addresses.parseLiteral(serviceV6)));
    InstanceRecord[] inst = new InstanceRecord[instanceV4V6.length / 2];
    for (int i = 0; i < inst.length; i++) {
      String v4 = instanceV4V6[2 * i];
      String v6 = instanceV4V6[2 * i + 1];
      inst[i] = InstanceRecord.of(id, i, v4 == null ? null : Addresses.parseLiteral(v4),
          v6 == null ? null : Addresses.parseLiteral(v6), null, InstanceMetadata.NONE);
    }
    return ServiceRecord.of(id, version, ips, List.of(inst));
  }

  public void put(ServiceRecord r) {
    records.put(r.service(), r);
  }

  /** Replaces the record and pushes the change to listeners, as the resolver does. */
  public void update(ServiceRecord r) {
    ServiceRecord prev = records.put(r.service(), r);
    exec.execute(() -> listeners.forEach(l -> l.onRecordUpdated(prev, r)));
  }

  /** Removes the service and pushes the removal. */
  public void remove(ServiceId id) {
    records.remove(id);
    exec.execute(() -> listeners.forEach(l -> l.onServiceRemoved(id)));
  }

  /** Removes the service without telling anyone (a lost push). */
  public void removeSilently(ServiceId id) {
    records.remove(id);
  }

  public void delay(ServiceId id, long millis) {
    delaysMillis.put(id, millis);
  }

  public void unavailable(boolean u) {
    unavailable = u;
  }

  public int calls(String name) {
    AtomicInteger c = calls.get(name);
    return c == null ? 0 : c.get();
  }

  public int totalCalls() {
    return calls.values().stream().mapToInt(AtomicInteger::get).sum();
  }

  @Override
  public CompletionStage<Resolution> resolve(SemanticName name) {
    calls.computeIfAbsent(name.toString(), k -> new AtomicInteger()).incrementAndGet();
    CompletableFuture<Resolution> f = new CompletableFuture<>();
    long delay = delaysMillis.getOrDefault(name.service(), 0L);
    exec.schedule(() -> f.complete(answer(name)), delay, TimeUnit.MILLISECONDS);
    return f;
  }

  private Resolution answer(SemanticName name) {
    if (unavailable) {
      return Resolution.unavailable("service manager unreachable");
    }
    ServiceRecord r = records.get(name.service());
    if (r == null) {
      return Resolution.notFound("no such service");
    }
    if (name.isInstance()) {
      InstanceRecord ir = r.instance(name.instance());
      if (ir == null) {
        return Resolution.notFound("no such instance");
      }
      InstanceIp ip = ir.instanceIpv4() != null ? ir.instanceIpv4() : ir.instanceIpv6();
      return Resolution.found(Route.of(ip, r));
    }
    ServiceIp ip = r.serviceIp(name.policy(), true);
    if (ip == null) {
      ip = r.serviceIp(name.policy(), false);
    }
    if (ip == null) {
      return Resolution.notFound("no ServiceIP for policy " + name.policy());
    }
    return Resolution.found(Route.of(ip, r));
  }

  @Override
  public io.semnet.core.route.Route cached(InetAddress virtualIp) {
    return null;
  }

  @Override
  public CompletionStage<Resolution> resolve(InetAddress virtualIp) {
    return CompletableFuture.completedFuture(Resolution.notFound("not used by the responder"));
  }

  @Override
  public void addListener(RouteListener listener) {
    listeners.add(listener);
  }

  @Override
  public void removeListener(RouteListener listener) {
    listeners.remove(listener);
  }

  public int listenerCount() {
    return listeners.size();
  }

  @Override
  public IsolationRules isolationRules() {
    return null;
  }

  @Override
  public boolean isOnline() {
    return !unavailable;
  }

  @Override
  public void start(NodeContext context) {}

  @Override
  public void close() {
    exec.shutdownNow();
  }
}
