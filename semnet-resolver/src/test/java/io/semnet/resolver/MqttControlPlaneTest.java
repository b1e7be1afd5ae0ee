package io.semnet.resolver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.Resolution;
import io.semnet.core.service.ServiceId;
import io.semnet.resolver.transport.ControlTransport;
import io.semnet.resolver.transport.mqtt.MqttTransport;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The behavioural suite over MQTT through a real mosquitto broker, plus broker outage and malformed input. */
class MqttControlPlaneTest extends ControlPlaneBehaviourTest {
  @TempDir Path dir;
  private Mosquitto broker;
  private MqttTransport mqtt;

  @Override
  protected ControlTransport newTransport() throws Exception {
    broker = Mosquitto.plain(dir);
    mqtt = MqttTransport.builder(broker.uri()).reconnectDelay(java.time.Duration.ofMillis(100)).build();
    return mqtt;
  }

  @AfterEach
  void stopBroker() throws Exception {
    if (broker != null) {
      broker.close();
    }
  }

  @Override
  protected void cut(String id) {
    mqtt.setOnline(id, false);
  }

  @Override
  protected void heal(String id) {
    mqtt.setOnline(id, true);
    await(() -> mqtt.isConnected(id), id + " reconnected");
  }

  @Test
  void brokerOutageServesStaleRoutesAndRecovers() throws Exception {
    ServiceRecord api = standard();
    ServiceId other = sid("a", "other");
    deploy(other, 1);
    ServiceRecord otherRec = place(other, 0, "m1");
    WorkerResolver w = workers.get("w1");
    InetAddress sip = ip(api, "first");
    assertTrue(get(w.resolve(sip)).isFound());

    broker.stop();
    await(() -> !mqtt.isConnected("w1"), "connection lost");
    time.advance(RENEW);
    w.runMaintenance();
    assertFalse(w.isOnline());
    assertNotNull(w.cached(sip), "stale route keeps serving while the broker is down");
    assertEquals(Resolution.Status.UNAVAILABLE, get(w.resolve(ip(otherRec, "first"))).status());

    broker.start();
    await(() -> mqtt.isConnected("w1") && mqtt.isConnected("c1") && mqtt.isConnected("root"), "reconnected");
    w.runMaintenance();
    assertTrue(w.isOnline(), "recovered by itself");
    assertTrue(get(w.resolve(ip(otherRec, "first"))).isFound());
  }

  @Test
  void malformedMessagesAreDroppedWithoutHarm() throws Exception {
    ServiceRecord api = standard();
    WorkerResolver w = workers.get("w1");
    InetAddress sip = ip(api, "first");
    assertTrue(get(w.resolve(sip)).isFound());
    long before = mqtt.malformed();
    MqttClient rogue = new MqttClient(broker.uri(), "rogue", new MemoryPersistence());
    rogue.connect();
    try {
      for (String junk : new String[] {"not json", "{}", "{\"v\":1,\"type\":\"record\"}", "{\"v\":99,\"type\":\"ack\"}",
          "{\"v\":1,\"type\":\"query\",\"id\":1,\"key\":{\"address\":\"300.1.1.1\"},\"register\":true}"}) {
        rogue.publish("semnet/c1/push/w1", junk.getBytes(StandardCharsets.UTF_8), 1, false);
        rogue.publish("semnet/c1/req/w1", junk.getBytes(StandardCharsets.UTF_8), 1, false);
      }
    } finally {
      rogue.disconnect();
      rogue.close();
    }
    await(() -> mqtt.malformed() >= before + 10, "every junk message counted and dropped");
    assertNotNull(w.cached(sip));
    assertEquals(api.version(), w.cached(sip).record().version());
    assertTrue(get(w.resolve(ip(api, "near"))).isFound(), "still working");
  }
}
