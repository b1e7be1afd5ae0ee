/**
 * The transport SPI of the control protocol ({@link io.semnet.resolver.transport.ControlTransport})
 * and its in-process implementation. A transport carries requests with one reply each from a
 * client to a named manager, and pushes from a manager to a named client; it knows nothing about
 * what the messages mean.
 */
package io.semnet.resolver.transport;
