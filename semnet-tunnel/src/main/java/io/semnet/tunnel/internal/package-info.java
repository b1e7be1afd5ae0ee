/**
 * Internals of the tunnel: datagram header and sealing, per-thread AEAD ciphers, key derivation,
 * X25519 key conversions, the replay window, run epochs and the kernel drop counter reader. Public
 * only for the benchmarks; not API.
 */
package io.semnet.tunnel.internal;
