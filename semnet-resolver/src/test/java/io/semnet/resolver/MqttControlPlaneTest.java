package io.semnet.resolver;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.semnet.resolver.transport.ControlTransport;
import io.semnet.resolver.transport.mqtt.MqttNodes;
import org.junit.jupiter.api.AfterEach;

/**
 * The behavioural suite over MQTT: a real mosquitto on loopback, one broker connection per node,
 * every message through the JSON wire format. Cutting a node partitions its connection.
 */
class MqttControlPlaneTest extends ControlPlaneBehaviourTest {
  private MqttNodes mqtt;

  @Override
  protected ControlTransport newTransport() {
    mqtt = MqttNodes.start();
    return mqtt;
  }

  @Override
  protected void cut(String id) {
    mqtt.cut(id);
  }

  @Override
  protected void heal(String id) throws Exception {
    mqtt.heal(id);
  }

  @AfterEach
  void nothingWasRejected() {
    // Every message the control plane sent must have been a valid envelope to its receiver.
    assertEquals(0, mqtt.rejectedMessages());
  }
}
