package io.semnet.mqtt;

import io.semnet.resolver.WorkerResolver;

import io.semnet.control.ControlPlaneBehaviourTest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.Resolution;
import io.semnet.core.service.ServiceId;
import io.semnet.resolver.transport.ControlTransport;
import io.semnet.mqtt.MqttNodes;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Test;

/**
 * The behavioural suite over MQTT: a real mosquitto on loopback, one broker connection per node,
 * every message through the JSON wire format; cutting a node partitions its connection. Plus a
 * broker outage and malformed input against the whole control plane.
 */
class MqttControlPlaneTest extends ControlPlaneBehaviourTest {
  private MqttNodes mqtt;
  private long allowedRejects;

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

  @BeforeEach
  void expectRejects(TestInfo info) {
    // That suite test sends a push as a request on purpose: the manager rejects (and counts) it.
    allowedRejects = info.getTestMethod().map(m -> m.getName().equals("aRogueClientCannotSeeOrDisturbOthers")).orElse(false) ? 1 : 0;
  }

  @Override
  @AfterEach
  protected void tearDown() throws Exception {
    // Every message the control plane itself sent must have been a valid envelope to its receiver.
    // A request that meets a manager mid-restart, or a reply that arrives after its timeout, is
    // rejected for its timing, not its form, and tests that restart or partition nodes do that.
    // Tests that expect rejects count them all, exactly.
    long rejected = allowedRejects > 0 ? mqtt.rejectedMessages() : mqtt.rejectedBadMessages();
    super.tearDown();
    assertEquals(allowedRejects, rejected, "messages rejected by the nodes");
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

    mqtt.stopBroker();
    await(() -> !mqtt.isConnected("w1"), "connection lost");
    time.advance(RENEW);
    w.runMaintenance();
    assertFalse(w.isOnline());
    assertNotNull(w.cached(sip), "stale route keeps serving while the broker is down");
    assertEquals(Resolution.Status.UNAVAILABLE, get(w.resolve(ip(otherRec, "first"))).status());

    mqtt.startBroker();
    mqtt.heal("c1"); // waits until every node is connected and sees its managers again
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
    long before = mqtt.rejectedMessages();
    String[] junk = {"not json", "{}", "{\"v\":1,\"kind\":\"push\",\"type\":\"record\"}", "{\"v\":99,\"kind\":\"reply\",\"id\":1,\"type\":\"ack\"}",
        "{\"v\":1,\"kind\":\"request\",\"type\":\"query\",\"id\":1,\"key\":{\"address\":\"300.1.1.1\"},\"register\":true}"};
    MqttClient rogue = new MqttClient(mqtt.uri(), "rogue", new MemoryPersistence());
    rogue.connect();
    try {
      for (String j : junk) {
        rogue.publish("semnet/c1/m2c/w1", j.getBytes(StandardCharsets.UTF_8), 1, false);
        rogue.publish("semnet/c1/c2m/w1", j.getBytes(StandardCharsets.UTF_8), 1, false);
      }
    } finally {
      rogue.disconnect();
      rogue.close();
    }
    // Plus two: c1 answers the two rejected requests whose id it can read (v=99, bad address) with
    // an error reply, which w1 in turn drops as a reply to a request it never sent.
    allowedRejects = 2L * junk.length + 2;
    await(() -> mqtt.rejectedMessages() >= before + allowedRejects, "every junk message counted and dropped");
    assertNotNull(w.cached(sip));
    assertEquals(api.version(), w.cached(sip).record().version());
    assertTrue(get(w.resolve(ip(api, "near"))).isFound(), "still working");
  }
}
