/**
 * The control protocol over an MQTT 5 broker: {@link io.semnet.mqtt.MqttTransport}, an
 * implementation of the {@code io.semnet.resolver.transport} SPI with TLS identities, topic ACLs,
 * presence and reconnection. Its envelope, topics, connection and request bookkeeping live in
 * {@code io.semnet.mqtt.internal}, which is not exported.
 */
module io.semnet.mqtt {
  requires transitive io.semnet.resolver;
  requires com.fasterxml.jackson.databind;
  requires org.eclipse.paho.mqttv5.client;
  requires org.slf4j;

  exports io.semnet.mqtt;
  // the ACL writer, for the controller's `certs init`
  exports io.semnet.mqtt.internal to io.semnet.agent;
}
