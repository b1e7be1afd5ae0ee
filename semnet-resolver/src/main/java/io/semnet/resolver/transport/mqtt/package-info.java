/**
 * The control protocol over MQTT (Eclipse Paho v5 client, any MQTT 5 broker such as Mosquitto): JSON
 * messages ({@link io.semnet.resolver.protocol.WireCodec}) on per-client topics that broker ACLs can
 * restrict to their owner. See the module README for topics, ACLs and TLS.
 */
package io.semnet.resolver.transport.mqtt;
