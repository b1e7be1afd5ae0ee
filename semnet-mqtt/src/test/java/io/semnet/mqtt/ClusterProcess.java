package io.semnet.mqtt;

import io.semnet.control.ServiceManager;
import io.semnet.control.TestPolicies;
import io.semnet.core.trust.RootTrust;
import java.time.Duration;

/**
 * A cluster manager as its own process ({@link FailureMatrixTest}): binds on MQTT under its id with
 * the root's public key, prints {@code READY;} once its upstream answered, then runs until killed.
 *
 * <p>Arguments: broker URI, the root's public key (base64), cluster id.
 */
public final class ClusterProcess {
  private ClusterProcess() {}

  public static void main(String[] args) throws Exception {
    MqttTransport mqtt = MqttTransport.builder().brokerUri(args[0]).clientId(args[2])
        .reconnectDelay(Duration.ofMillis(50), Duration.ofMillis(500)).build();
    mqtt.awaitConnected(Duration.ofSeconds(10));
    ServiceManager c = ServiceManager.cluster().id(args[2]).upstream("root").transport(mqtt)
        .rootTrust(RootTrust.ofBase64(args[1])).policyRegistry(TestPolicies.registry())
        .requestTimeout(Duration.ofSeconds(1)).maintenanceInterval(Duration.ofSeconds(3)).build();
    while (!c.isUpstreamOnline()) {
      Thread.sleep(20);
    }
    System.out.println("READY;");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
