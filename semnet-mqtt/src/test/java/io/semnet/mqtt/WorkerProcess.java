package io.semnet.mqtt;

import io.semnet.core.trust.RootTrust;
import io.semnet.resolver.WorkerResolver;
import java.time.Duration;

/**
 * A worker node's control side as a separate JVM, for tests that kill a node: its
 * {@link MqttTransport} (whose last will announces the node gone) and its {@link WorkerResolver}
 * connected to its cluster manager. Prints {@code READY;} once online, then idles.
 *
 * <p>Arguments: broker URI, root trust (base64), node id, cluster id.
 */
public final class WorkerProcess {
  private WorkerProcess() {}

  public static void main(String[] args) throws Exception {
    MqttTransport mqtt = MqttTransport.builder().brokerUri(args[0]).clientId(args[2])
        .reconnectDelay(Duration.ofMillis(50), Duration.ofMillis(500)).build();
    mqtt.awaitConnected(Duration.ofSeconds(10));
    WorkerResolver w = WorkerResolver.builder().nodeId(args[2]).manager(args[3]).transport(mqtt)
        .rootTrust(RootTrust.ofBase64(args[1])).requestTimeout(Duration.ofSeconds(2)).build().start();
    while (!w.isOnline()) {
      Thread.sleep(20);
    }
    System.out.println("READY;");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
