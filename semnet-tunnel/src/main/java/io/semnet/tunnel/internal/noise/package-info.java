/**
 * The Noise IK handshake for the tunnel (Noise spec revision 34, {@code Noise_IK_25519_AESGCM_SHA256}
 * and {@code Noise_IK_25519_ChaChaPoly_SHA256}) and the WireGuard-like messages that carry it:
 * framework core ({@link io.semnet.tunnel.internal.noise.CipherState},
 * {@link io.semnet.tunnel.internal.noise.SymmetricState},
 * {@link io.semnet.tunnel.internal.noise.HandshakeState}), the message codec
 * ({@link io.semnet.tunnel.internal.noise.HandshakeCodec}), mac1/mac2 cookies, replay floors on
 * TAI64N timestamps, per-source rate buckets and the initiator/responder state machine
 * ({@link io.semnet.tunnel.internal.noise.Handshake}). JDK primitives only. Not API; not yet wired
 * into {@code UdpTunnel}.
 */
package io.semnet.tunnel.internal.noise;
