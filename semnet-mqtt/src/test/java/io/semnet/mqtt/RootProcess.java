package io.semnet.mqtt;

import io.semnet.control.ControlPlaneBehaviourTest;
import io.semnet.control.Orchestration;
import io.semnet.control.RootKeyFile;
import io.semnet.control.ServiceDescriptor;
import io.semnet.control.ServiceManager;
import io.semnet.control.TestPolicies;
import io.semnet.control.store.PostgresRootStore;
import io.semnet.control.store.RootStore;
import io.semnet.core.address.ServiceIp;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RootAuthority;
import io.semnet.resolver.NodeRegistration;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.Set;

/**
 * One root process of {@link RootFailoverTest} and {@link FailureMatrixTest}: loads the root key
 * file, opens its store (a journal, or PostgreSQL and waits for leadership), then binds the root
 * manager on MQTT. The first leader (or a journal root) registers the nodes and places the services
 * the test resolves. Scenario {@code failover}: then deploys services as fast as it can, printing
 * what it was granted and published (each line ends with {@code ;} once complete); a later leader
 * first deploys and places {@code a/after-NAME}. Scenario {@code matrix}: idles. It exits when it
 * loses leadership.
 *
 * <p>Arguments: broker URI, JDBC URL or {@code journal:PATH}, key file, process name, scenario.
 */
public final class RootProcess {
  private RootProcess() {}

  public static void main(String[] args) throws Exception {
    PrintStream out = System.out;
    String name = args[3];
    RootAuthority key = RootKeyFile.load(Path.of(args[2]));
    boolean matrix = args.length > 4 && args[4].equals("matrix");
    Properties props = new Properties();
    props.setProperty("user", "postgres");
    PostgresRootStore store = args[1].startsWith("journal:") ? null : PostgresRootStore.connect(args[1], props, name);
    MqttTransport mqtt = MqttTransport.builder().brokerUri(args[0]).clientId("root-" + name)
        .reconnectDelay(Duration.ofMillis(50), Duration.ofMillis(500)).build();
    mqtt.awaitConnected(Duration.ofSeconds(10));
    out.println("STANDBY;");
    out.flush();
    long epoch = store == null ? 0 : store.awaitLeadership(Duration.ofMinutes(10));
    ServiceManager root = ServiceManager.root().id("root").transport(mqtt).authority(key)
        .plan(AddressPlan.builder().ipv6(null).build()).policyRegistry(TestPolicies.registry()).platformPolicies(Set.of("first"))
        .store(store != null ? store : RootStore.journal(Path.of(args[1].substring("journal:".length())))).rootEpoch(epoch).heartbeatInterval(Duration.ofSeconds(1)).maintenanceInterval(Duration.ofMillis(500)).build();
    out.println("LEADER " + epoch + " " + System.currentTimeMillis() + ";");
    out.flush();
    Orchestration o = root.orchestration();
    if (matrix) {
      if (epoch <= 1) {
        matrixSetUp(o);
      }
      out.println("SETUP;");
      out.flush();
      while (store == null || store.isLeader()) {
        Thread.sleep(500);
      }
      out.println("DEPOSED;");
      out.flush();
      System.exit(3);
    }
    if (epoch == 1) {
      NodeRegistration w1 = o.registerNode("c1", ControlPlaneBehaviourTest.endpoint("w1"), null);
      o.registerNode("c1", ControlPlaneBehaviourTest.endpoint("n2"), null);
      deployOn(o, ServiceId.of("app", "a", "client", "prod"), w1, 2);
      deployOn(o, ServiceId.of("app", "a", "api", "prod"), o.node("n2"), 3);
      out.println("SETUP;");
    } else {
      ServiceRecord r = deployOn(o, ServiceId.of("app", "a", "after-" + name, "prod"), o.node("n2"), 4);
      out.println("AFTER " + r.service() + " " + r.version() + ";");
    }
    out.flush();
    for (int i = 0; ; i++) {
      if (i % 10 == 0 && !store.isLeader()) {
        out.println("DEPOSED;");
        out.flush();
        System.exit(3);
      }
      ServiceRecord r = o.deploy(ServiceDescriptor.builder(ServiceId.of("app", "b", "s-" + name + "-" + i, "prod")).instances(2).build());
      StringBuilder b = new StringBuilder();
      for (ServiceIp s : r.serviceIps()) {
        b.append("ALLOC sip ").append(s.address().getHostAddress()).append(";\n");
      }
      for (InstanceRecord ir : r.instances()) {
        b.append("ALLOC iip ").append(ir.instanceIpv4().address().getHostAddress()).append(";\n");
      }
      b.append("PUB ").append(r.service()).append(' ').append(r.version()).append(";");
      out.println(b);
      out.flush();
      Thread.sleep(10);
    }
  }

  /**
   * Nodes w1, w2 in cluster c1 and w3, w4 in c2; every node hosts {@code a/client-NODE}; w2 and w3
   * each host {@code a/on-NODE-K} for K in 0..7 (fresh services for each cell of the matrix).
   */
  private static void matrixSetUp(Orchestration o) {
    for (String n : new String[] {"w1", "w2", "w3", "w4"}) {
      NodeRegistration r = o.registerNode(n.equals("w1") || n.equals("w2") ? "c1" : "c2", ControlPlaneBehaviourTest.endpoint(n), null);
      deployOn(o, ServiceId.of("app", "a", "client-" + n, "prod"), r, 2);
      if (n.equals("w2") || n.equals("w3")) {
        for (int k = 0; k < 8; k++) {
          deployOn(o, ServiceId.of("app", "a", "on-" + n + "-" + k, "prod"), r, 3 + k);
        }
      }
    }
    // "spread": #0 on w4, #1 on w2 (the node-down cell kills w4)
    ServiceId spread = ServiceId.of("app", "a", "spread", "prod");
    o.deploy(ServiceDescriptor.builder(spread).instances(2).build());
    NodeRegistration w2 = o.node("w2");
    NodeRegistration w4 = o.node("w4");
    o.placeInstance(spread, 0, Locator.of(w4.subnetV4().addressAt(20), null, w4.endpoint(), 0));
    o.placeInstance(spread, 1, Locator.of(w2.subnetV4().addressAt(20), null, w2.endpoint(), 0));
  }

  private static ServiceRecord deployOn(Orchestration o, ServiceId s, NodeRegistration node, int offset) {
    o.deploy(ServiceDescriptor.builder(s).instances(1).build());
    return o.placeInstance(s, 0, Locator.of(node.subnetV4().addressAt(offset), null, node.endpoint(), 0));
  }
}
