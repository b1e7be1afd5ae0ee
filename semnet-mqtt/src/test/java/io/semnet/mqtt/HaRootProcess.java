package io.semnet.mqtt;

import io.semnet.control.ControlPlaneBehaviourTest;
import io.semnet.control.Orchestration;
import io.semnet.control.RootKeyFile;
import io.semnet.control.ServiceDescriptor;
import io.semnet.control.ServiceManager;
import io.semnet.control.TestPolicies;
import io.semnet.control.store.PostgresRootStore;
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
 * One root process of {@link RootFailoverTest}: loads the root key file, waits for leadership on
 * the PostgreSQL root store, then binds the root manager on MQTT and deploys services as fast as it
 * can, printing what it was granted and published (each line ends with {@code ;} once complete).
 * The first leader (epoch 1) also registers the nodes and places the services the test resolves;
 * a later leader first deploys and places {@code a/after-NAME}. It exits when it loses leadership.
 *
 * <p>Arguments: broker URI, JDBC URL, key file, process name.
 */
public final class HaRootProcess {
  private HaRootProcess() {}

  public static void main(String[] args) throws Exception {
    PrintStream out = System.out;
    String name = args[3];
    RootAuthority key = RootKeyFile.load(Path.of(args[2]));
    Properties props = new Properties();
    props.setProperty("user", "postgres");
    PostgresRootStore store = PostgresRootStore.connect(args[1], props, name);
    MqttTransport mqtt = MqttTransport.builder().brokerUri(args[0]).clientId("root-" + name)
        .reconnectDelay(Duration.ofMillis(50), Duration.ofMillis(500)).build();
    mqtt.awaitConnected(Duration.ofSeconds(10));
    out.println("STANDBY;");
    out.flush();
    long epoch = store.awaitLeadership(Duration.ofMinutes(10));
    ServiceManager root = ServiceManager.root().id("root").transport(mqtt).authority(key)
        .plan(AddressPlan.builder().ipv6(null).build()).policyRegistry(TestPolicies.registry()).platformPolicies(Set.of("first"))
        .store(store).rootEpoch(epoch).heartbeatInterval(Duration.ofSeconds(1)).maintenanceInterval(Duration.ofMillis(500)).build();
    out.println("LEADER " + epoch + " " + System.currentTimeMillis() + ";");
    out.flush();
    Orchestration o = root.orchestration();
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

  private static ServiceRecord deployOn(Orchestration o, ServiceId s, NodeRegistration node, int offset) {
    o.deploy(ServiceDescriptor.builder(s).instances(1).build());
    return o.placeInstance(s, 0, Locator.of(node.subnetV4().addressAt(offset), null, node.endpoint(), 0));
  }
}
