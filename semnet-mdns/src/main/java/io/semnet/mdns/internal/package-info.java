/**
 * Internals of the responder: an allocation-free query decoder, the single-threaded query engine
 * with its name store, record pre-encoding with Netty's DNS codec, and upstream forwarding. Not API.
 */
package io.semnet.mdns.internal;
