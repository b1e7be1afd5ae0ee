package io.semnet.control;

import static io.semnet.control.ControlPlaneBehaviourTest.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.control.store.RootStore;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RootAuthority;
import io.semnet.resolver.NodeRegistration;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.ErrorReply;
import io.semnet.resolver.protocol.Hello;
import io.semnet.resolver.protocol.HelloReply;
import io.semnet.resolver.protocol.Query;
import io.semnet.resolver.protocol.QueryKey;
import io.semnet.resolver.protocol.QueryReply;
import io.semnet.resolver.protocol.Renew;
import io.semnet.resolver.protocol.Role;
import io.semnet.resolver.protocol.ServiceVersion;
import io.semnet.resolver.transport.ClientChannel;
import io.semnet.resolver.transport.InProcessTransport;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/**
 * Issue 15 item 2: a node flooding its cluster manager with queries and renewals of arbitrary
 * service ids, next to a well-behaved node. The flooder's excess is refused with a clear error code
 * and counted; every request of the well-behaved node is answered. Its latency with and without the
 * neighbour is printed (no timing assertion: a loaded 2-core machine).
 */
class ManagerLimitsTest {
  private static final Duration T = Duration.ofSeconds(10);
  private static final int GOOD_REQUESTS = 150;

  @Test
  void aFloodingNodeIsRefusedAndCountedAndItsNeighbourIsServed() throws Exception {
    RootAuthority authority = RootAuthority.generate();
    ManagerLimits limits = ManagerLimits.builder().requestsPerSecond(100).burst(50).maxOutstanding(8).maxFetchesPerRenew(4).build();
    try (InProcessTransport transport = InProcessTransport.builder().threads(2).maxQueuedRequests(64).build();
         ServiceManager root = ServiceManager.root().id("root").transport(transport).authority(authority)
             .plan(AddressPlan.builder().ipv6(null).build()).policyRegistry(TestPolicies.registry())
             .platformPolicies(Set.of("first")).store(RootStore.inMemory()).build();
         ServiceManager c1 = ServiceManager.cluster().id("c1").upstream("root").transport(transport)
             .rootTrust(authority.trust()).policyRegistry(TestPolicies.registry()).pruneK(0).limits(limits).build()) {
      await(c1::isUpstreamOnline, "c1 greeted the root");
      Orchestration o = root.orchestration();
      NodeRegistration good = o.registerNode("c1", ControlPlaneBehaviourTest.endpoint("good"), null);
      NodeRegistration flood = o.registerNode("c1", ControlPlaneBehaviourTest.endpoint("flood"), null);
      NodeRegistration n2 = o.registerNode("c1", ControlPlaneBehaviourTest.endpoint("n2"), null);
      place(o, ServiceId.of("app", "a", "client", "prod"), good);
      place(o, ServiceId.of("app", "b", "client", "prod"), flood);
      ServiceRecord api = place(o, ServiceId.of("app", "a", "api", "prod"), n2);
      InetAddress sip = api.serviceIp("first", true).address();

      ClientChannel goodCh = transport.connect("c1", "good", m -> { });
      ClientChannel floodCh = transport.connect("c1", "flood", m -> { });
      assertTrue(goodCh.request(new Hello("good", Role.WORKER, null), T).toCompletableFuture().get() instanceof HelloReply);
      assertTrue(floodCh.request(new Hello("flood", Role.WORKER, null), T).toCompletableFuture().get() instanceof HelloReply);
      await(() -> c1.record(api.service()) != null && c1.record(api.service()).instance(0).locator() != null, "c1 holds api");

      long[] alone = goodNode(goodCh, sip);
      Thread.sleep(600); // the good node's bucket refills

      Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong sent = new AtomicLong();
      Thread flooder = new Thread(() -> flood(floodCh, sip, stop, sent, outcomes), "flooder");
      flooder.start();
      await(() -> count(outcomes, ErrorReply.RATE_LIMITED) > 0, "the flooder hit its rate limit");
      long[] neighbour = goodNode(goodCh, sip);
      stop.set(true);
      flooder.join(TimeUnit.SECONDS.toMillis(30));

      long refused = count(outcomes, ErrorReply.RATE_LIMITED) + count(outcomes, ErrorReply.TOO_MANY_OUTSTANDING)
          + count(outcomes, ErrorReply.OVERLOADED);
      System.out.printf("ManagerLimitsTest: flooder sent %d requests: %s; manager counted RATE_LIMITED=%d"
              + " TOO_MANY_OUTSTANDING=%d NOT_PERMITTED(renew fetches skipped)=%d, transport OVERLOADED=%d%n",
          sent.get(), outcomes, c1.refusedRequests(ErrorReply.RATE_LIMITED),
          c1.refusedRequests(ErrorReply.TOO_MANY_OUTSTANDING), c1.refusedRequests(ErrorReply.NOT_PERMITTED),
          transport.overloadedRequests());
      System.out.printf("ManagerLimitsTest: well-behaved node, %d queries at ~65/s: alone p50 %.2f ms p99 %.2f ms;"
              + " next to the flooder p50 %.2f ms p99 %.2f ms%n", GOOD_REQUESTS,
          alone[0] / 1e6, alone[1] / 1e6, neighbour[0] / 1e6, neighbour[1] / 1e6);

      assertTrue(refused > sent.get() / 2, "most of the flood is refused: " + outcomes);
      assertEquals(count(outcomes, ErrorReply.RATE_LIMITED), c1.refusedRequests(ErrorReply.RATE_LIMITED), "every refusal counted");
      assertEquals(count(outcomes, ErrorReply.TOO_MANY_OUTSTANDING), c1.refusedRequests(ErrorReply.TOO_MANY_OUTSTANDING));
      assertEquals(count(outcomes, ErrorReply.OVERLOADED), transport.overloadedRequests());
      assertTrue(c1.refusedRequests(ErrorReply.NOT_PERMITTED) > 0, "renewals of arbitrary ids do not all reach the root");
      assertEquals(0, count(outcomes, "timeout"), "even the flooder gets an answer to every request: " + outcomes);
      assertEquals(Set.of("good"), c1.interestedClients(api.service()), "the flooder registered no interest it may not hold");
      assertTrue(c1.upstreamInterests().stream().noneMatch(s -> s.appNamespace().equals("x")),
          "no upstream interest kept for the flooder's arbitrary ids: " + c1.upstreamInterests());
      goodCh.close();
      floodCh.close();
    }
  }

  private static ServiceRecord place(Orchestration o, ServiceId s, NodeRegistration node) {
    o.deploy(ServiceDescriptor.builder(s).instances(1).build());
    return o.placeInstance(s, 0, Locator.of(node.subnetV4().addressAt(2), null, node.endpoint(), 0));
  }

  private static long count(Map<String, LongAdder> m, String k) {
    LongAdder a = m.get(k);
    return a == null ? 0 : a.sum();
  }

  /** The well-behaved node: one query at a time, paced; each must be FOUND. Returns {p50, p99} in ns. */
  private static long[] goodNode(ClientChannel ch, InetAddress sip) throws Exception {
    List<Long> lat = new ArrayList<>();
    for (int i = 0; i < GOOD_REQUESTS; i++) {
      long t0 = System.nanoTime();
      ControlMessage r = ch.request(new Query(QueryKey.of(sip), true), T).toCompletableFuture().get(15, TimeUnit.SECONDS);
      lat.add(System.nanoTime() - t0);
      assertTrue(r instanceof QueryReply && ((QueryReply) r).status() == QueryReply.Status.FOUND,
          "request " + i + " of the well-behaved node answered: " + r);
      Thread.sleep(15);
    }
    Collections.sort(lat);
    return new long[] {lat.get(lat.size() / 2), lat.get((int) Math.ceil(lat.size() * 0.99) - 1)};
  }

  /** The flooder: as many requests in flight as it likes (up to 512), of every kind that costs the manager. */
  private static void flood(ClientChannel ch, InetAddress sip, AtomicBoolean stop, AtomicLong sent, Map<String, LongAdder> out) {
    Semaphore window = new Semaphore(512);
    long i = 0;
    while (!stop.get()) {
      try {
        window.acquire();
      } catch (InterruptedException e) {
        return;
      }
      ControlMessage req;
      switch ((int) (i % 3)) {
        case 0:
          req = new Query(QueryKey.of(ServiceId.of("app", "x", "s" + i, "prod")), true);
          break;
        case 1:
          List<ServiceVersion> l = new ArrayList<>();
          for (int k = 0; k < 50; k++) {
            l.add(new ServiceVersion(ServiceId.of("app", "x", "r" + i + "-" + k, "prod"), 0));
          }
          req = new Renew(l);
          break;
        default:
          req = new Query(QueryKey.of(sip), true);
      }
      i++;
      sent.incrementAndGet();
      ch.request(req, T).whenComplete((r, e) -> {
        String k = e != null ? "timeout" : r instanceof ErrorReply ? ((ErrorReply) r).code() : r.type();
        out.computeIfAbsent(k, x -> new LongAdder()).increment();
        window.release();
      });
    }
    window.acquireUninterruptibly(512);
  }
}
