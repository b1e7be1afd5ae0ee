package io.semnet.control;

import io.semnet.resolver.NodeRegistration;
import io.semnet.resolver.WorkerResolver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.node.SemnetNode;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.Resolution;
import io.semnet.core.service.SemanticName;
import io.semnet.core.service.ServiceId;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The wiring the node agent and demo use: an in-process control plane with the built-in policies, a resolver inside a SemnetNode. */
class EmbeddingTest {
  @Test
  void resolverRunsInsideASemnetNodeWithBuiltInPolicies() throws Exception {
    try (InProcessControlPlane cp = InProcessControlPlane.builder().clusters("c1").build()) {
      assertTrue(cp.orchestration().platformPolicies().contains("rr"), "built-in policies offered by default: "
          + cp.orchestration().platformPolicies());
      NodeRegistration server = cp.orchestration().registerNode("c1", ControlPlaneBehaviourTest.endpoint("server"), GeoPoint.of(48, 11));
      NodeRegistration client = cp.orchestration().registerNode("c1", ControlPlaneBehaviourTest.endpoint("client"), GeoPoint.of(52, 13));
      ServiceId api = ServiceId.of("demo", "tum", "api", "prod");
      ServiceId caller = ServiceId.of("demo", "tum", "caller", "prod");
      cp.orchestration().deploy(ServiceDescriptor.builder(api).instances(2).build());
      cp.orchestration().placeInstance(api, 0, Locator.of(server.subnetV4().addressAt(2), null, server.endpoint(), 0));
      ServiceRecord rec = cp.orchestration().placeInstance(api, 1, Locator.of(server.subnetV4().addressAt(3), null, server.endpoint(), 0));
      cp.orchestration().deploy(ServiceDescriptor.builder(caller).instances(1).build());
      cp.orchestration().placeInstance(caller, 0, Locator.of(client.subnetV4().addressAt(2), null, client.endpoint(), 0));
      ControlPlaneBehaviourTest.await(() -> cp.cluster("c1").record(caller) != null, "deployment interest");

      WorkerResolver resolver = WorkerResolver.builder().nodeId("client").manager("c1").transport(cp.transport())
          .rootTrust(cp.authority().trust()).location(GeoPoint.of(52, 13)).maintenanceInterval(Duration.ofMillis(200)).build();
      SemnetNode node = SemnetNode.builder("client").resolver(resolver).build();
      node.start();
      try {
        ControlPlaneBehaviourTest.await(resolver::isOnline, "online");
        for (String policy : cp.orchestration().platformPolicies()) {
          Resolution r = resolver.resolve(SemanticName.ofPolicy(api, policy)).toCompletableFuture().get(5, TimeUnit.SECONDS);
          assertTrue(r.isFound(), policy + ": " + r);
          assertEquals(rec.serviceIp(policy, true), r.route().target());
          assertEquals(2, r.route().record().instances().size());
        }
        assertEquals(node.context().resolver(), resolver);
      } finally {
        node.close();
      }
      Resolution after = resolver.resolve(rec.serviceIp("rr", true).address()).toCompletableFuture().get(5, TimeUnit.SECONDS);
      assertEquals(Resolution.Status.UNAVAILABLE, after.status(), "a closed resolver answers, it does not throw");
    }
  }

  @Test
  void dualStackServicesResolveOverBothFamilies() throws Exception {
    try (InProcessControlPlane cp = InProcessControlPlane.builder().clusters("c1").workerMaintenance(Duration.ZERO).build()) {
      NodeRegistration n = cp.orchestration().registerNode("c1", ControlPlaneBehaviourTest.endpoint("n"), null);
      assertTrue(n.subnetV4() != null && n.subnetV6() != null, "a subnet per family");
      ServiceId api = ServiceId.of("demo", "tum", "api", "prod");
      cp.orchestration().deploy(ServiceDescriptor.builder(api).instances(1).build());
      ServiceRecord rec = cp.orchestration().placeInstance(api, 0,
          Locator.of(n.subnetV4().addressAt(2), n.subnetV6().addressAt(2), n.endpoint(), 0));
      WorkerResolver w = cp.addWorker("c1", ControlPlaneBehaviourTest.endpoint("n"), null);
      ControlPlaneBehaviourTest.await(() -> cp.cluster("c1").record(api) != null, "deployment interest");
      var v6 = rec.serviceIp("rr", false);
      assertTrue(v6 != null && v6.address() instanceof java.net.Inet6Address);
      Resolution r6 = w.resolve(v6.address()).toCompletableFuture().get(5, TimeUnit.SECONDS);
      assertEquals(v6, r6.route().target());
      var iip6 = rec.instance(0).instanceIpv6().address();
      Resolution i6 = w.resolve(iip6).toCompletableFuture().get(5, TimeUnit.SECONDS);
      assertEquals(rec.instance(0).instanceIpv6(), i6.route().target());
      assertTrue(i6.route().instance().reachableOver(false));
    }
  }
}
