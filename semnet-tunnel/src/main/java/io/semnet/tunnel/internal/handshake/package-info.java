/**
 * The tunnel's handshake: first contact with a root-signed certificate, the reply, and the key
 * derivation (README, "Key design"). Self-contained behind {@link
 * io.semnet.tunnel.internal.handshake.Handshake} so that another handshake can replace it. Not API.
 */
package io.semnet.tunnel.internal.handshake;
