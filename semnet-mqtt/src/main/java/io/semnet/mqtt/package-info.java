/**
 * The control protocol over MQTT 5 (Eclipse Paho v5 client, any MQTT 5 broker such as Mosquitto):
 * {@link io.semnet.mqtt.MqttTransport} is one node's broker connection, carrying
 * the JSON wire form of {@link io.semnet.resolver.protocol.WireCodec} inside a small envelope, on
 * per-client topics that broker ACLs ({@link io.semnet.mqtt.internal.MosquittoAcl})
 * restrict to their owner. See semnet-mqtt/README.md for topics, envelope, versions, TLS, ACL
 * and the threat model.
 */
package io.semnet.mqtt;
