package io.semnet.mqtt;

import io.semnet.mqtt.internal.Envelope;
import io.semnet.mqtt.internal.Topics;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes what an {@link MqttTransport} receives by topic: manager state, node liveness, requests
 * to a manager bound here, replies and pushes to a channel. Anything that is not a valid envelope
 * of the expected kind is rejected, counted and never reaches a handler. Works on the transport's
 * state; holds none itself.
 */
final class Inbound implements MqttCallback {
  private static final Logger log = LoggerFactory.getLogger(MqttTransport.class);

  private final MqttTransport t;

  Inbound(MqttTransport t) {
    this.t = t;
  }

  /** Runs on Paho's callback thread, in arrival order; decoding happens here so order is kept. */
  void route(String topic, byte[] payload) {
    if (!topic.startsWith(t.prefix + "/")) {
      t.rejects.reject("unexpected topic", topic, "outside prefix");
      return;
    }
    String[] p = topic.substring(t.prefix.length() + 1).split("/", -1);
    if (p.length == 2 && p[1].equals("state")) {
      if (payload.length == 0) {
        t.presence.onState(p[0], new Envelope.Inbound(t.codec.current(), Envelope.STATE, -1, null, false, null));
        return;
      }
      Envelope.Inbound in = decode(topic, payload);
      if (in != null && expect(topic, in, Envelope.STATE)) {
        t.presence.onState(p[0], in);
      }
    } else if (p.length == 2 && p[1].equals("alive")) {
      if (payload.length == 0) {
        return;
      }
      Envelope.Inbound in = decode(topic, payload);
      if (in != null && expect(topic, in, Envelope.ALIVE)) {
        t.presence.onAlive(p[0], in);
      }
    } else if (p.length == 3 && p[1].equals("c2m")) {
      Binding b = t.bindings.get(p[0]);
      if (b == null) {
        t.rejects.reject("no such manager here", topic, "");
        return;
      }
      if (!Topics.isValidId(p[2])) {
        t.rejects.reject("invalid client id", topic, "");
        return;
      }
      b.onRequest(topic, p[2], payload);
    } else if (p.length == 3 && p[1].equals("m2c")) {
      Channel c = t.channels.get(topic);
      if (c == null) {
        t.rejects.reject("no such channel here", topic, "");
        return;
      }
      Envelope.Inbound in = decode(topic, payload);
      if (in == null) {
        return;
      }
      if (Envelope.REPLY.equals(in.kind())) {
        PendingRequests.Pending pd = t.pending.get(in.id());
        if (pd == null || pd.channel != c || !t.pending.remove(in.id(), pd)) {
          t.rejects.reject("unexpected reply", topic, "id " + in.id() + " (late, duplicate or not ours)");
          return;
        }
        if (pd.timeout != null) {
          pd.timeout.cancel(false);
        }
        c.deliver(() -> pd.reply.complete(in.message()));
      } else if (Envelope.PUSH.equals(in.kind())) {
        c.deliver(() -> c.pushHandler.onPush(in.message()));
      } else {
        t.rejects.reject("unexpected kind", topic, in.kind());
      }
    } else {
      t.rejects.reject("unexpected topic", topic, "");
    }
  }

  private Envelope.Inbound decode(String topic, byte[] payload) {
    try {
      return t.codec.decode(payload);
    } catch (Envelope.Rejected r) {
      t.rejects.reject(r.reason, topic, r.getMessage());
      return null;
    }
  }

  boolean expect(String topic, Envelope.Inbound in, String kind) {
    if (!kind.equals(in.kind())) {
      t.rejects.reject("unexpected kind", topic, in.kind() + " where " + kind + " belongs");
      return false;
    }
    return true;
  }

  // Paho callback: everything arriving from the broker enters here.

  @Override
  public void disconnected(MqttDisconnectResponse response) {
    t.connection.onConnectionLost(response == null ? "disconnected" : String.valueOf(response.getReasonString()));
  }

  @Override
  public void mqttErrorOccurred(MqttException exception) {
    log.warn("MQTT error on {}: {}", t.nodeId, exception.getMessage());
  }

  @Override
  public void messageArrived(String topic, MqttMessage message) {
    // Never let anything escape into Paho: an exception here tears the connection down.
    t.received.incrementAndGet();
    try {
      route(topic, message.getPayload());
    } catch (RuntimeException e) {
      t.rejects.reject("internal error", topic, e.toString());
    }
  }

  @Override
  public void deliveryComplete(IMqttToken token) {}

  @Override
  public void connectComplete(boolean reconnect, String serverURI) {}

  @Override
  public void authPacketArrived(int reasonCode, MqttProperties properties) {}
}
