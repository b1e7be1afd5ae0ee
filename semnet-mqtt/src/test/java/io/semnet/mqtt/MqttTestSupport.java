package io.semnet.mqtt;

import io.semnet.core.address.ServiceIp;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceMetadata;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;

/** Shared helpers of the MQTT transport tests. */
final class MqttTestSupport {
  private MqttTestSupport() {}

  static final ServiceId SVC = ServiceId.parse("shop.prod.cart.prod");

  static ServiceRecord record(long version) {
    try {
      InetAddress ns4 = InetAddress.getByName("10.1.0.5");
      WorkerEndpoint w = WorkerEndpoint.of("worker-7", new InetSocketAddress(InetAddress.getByName("192.0.2.7"), 51820), new byte[32]);
      InstanceRecord i = InstanceRecord.of(SVC, 0, InetAddress.getByName("100.64.0.10"), InetAddress.getByName("fd00::a"),
          Locator.of(ns4, null, w, 3), InstanceMetadata.of(GeoPoint.of(48.1, 11.5), 0.5, "eu-1"));
      InstanceRecord j = InstanceRecord.of(SVC, 1, InetAddress.getByName("100.64.0.11"), null, null, InstanceMetadata.NONE);
      return ServiceRecord.of(SVC, version, List.of(ServiceIp.of(SVC, "rr", InetAddress.getByName("100.65.0.1"))), List.of(i, j));
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  static MqttTransport.Builder transport(MosquittoBroker broker, String id) {
    return MqttTransport.builder().brokerUri(broker.tcpUri()).clientId(id)
        .reconnectDelay(Duration.ofMillis(50), Duration.ofMillis(500));
  }

  static MqttTransport started(MqttTransport.Builder b) throws InterruptedException {
    MqttTransport t = b.build();
    if (!t.awaitConnected(Duration.ofSeconds(10))) {
      t.close();
      throw new AssertionError("transport did not connect to the broker");
    }
    return t;
  }

  /** A plain MQTT client that publishes whatever a test wants (a rogue or outdated peer). */
  static MqttAsyncClient raw(MosquittoBroker broker, String id) throws MqttException {
    return raw(broker, id, (t, m) -> {});
  }

  /** A raw client handing every message it receives to {@code onMessage}. */
  static MqttAsyncClient raw(MosquittoBroker broker, String id, BiConsumer<String, MqttMessage> onMessage) throws MqttException {
    MqttAsyncClient c = new MqttAsyncClient(broker.tcpUri(), id, new MemoryPersistence());
    c.setCallback(new Listener(onMessage));
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setCleanStart(true);
    c.connect(o).waitForCompletion(5000);
    return c;
  }

  /** A Paho callback that only hands messages on. */
  static final class Listener implements MqttCallback {
    private final BiConsumer<String, MqttMessage> onMessage;

    Listener(BiConsumer<String, MqttMessage> onMessage) {
      this.onMessage = onMessage;
    }

    @Override
    public void disconnected(MqttDisconnectResponse r) {}

    @Override
    public void mqttErrorOccurred(MqttException e) {}

    @Override
    public void messageArrived(String topic, MqttMessage message) {
      onMessage.accept(topic, message);
    }

    @Override
    public void deliveryComplete(IMqttToken token) {}

    @Override
    public void connectComplete(boolean reconnect, String uri) {}

    @Override
    public void authPacketArrived(int code, MqttProperties p) {}
  }

  static void publish(MqttAsyncClient c, String topic, String payload) throws MqttException {
    c.publish(topic, payload.getBytes(StandardCharsets.UTF_8), 1, false).waitForCompletion(5000);
  }

  static void await(String what, Duration max, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(10);
    }
  }
}
