package io.semnet.tunnel.internal.handshake;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.tunnel.CipherSuite;
import io.semnet.tunnel.internal.Kdf;
import io.semnet.tunnel.internal.X25519;
import io.semnet.tunnel.internal.link.Link;
import io.semnet.tunnel.internal.link.LinkTable;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * Key derivation of the handshake (README, "Key design"): the static-static handshake keys a link
 * is made with, and the session keys of one handshake. Stateless apart from this node's key pair.
 */
public final class HandshakeKeys implements LinkTable.Factory {
  private final PrivateKey privateKey;
  private final byte[] publicKey;
  private final CipherSuite suite;
  private final boolean plaintext;

  /** @param privateKey this node's long-term X25519 key and {@code publicKey} its raw public key; null in plaintext mode */
  public HandshakeKeys(PrivateKey privateKey, byte[] publicKey, CipherSuite suite, boolean plaintext) {
    this.privateKey = privateKey;
    this.publicKey = publicKey;
    this.suite = suite;
    this.plaintext = plaintext;
  }

  /** A link with its static handshake keys, or null if the peer's key is unusable. */
  @Override
  public Link newLink(WorkerEndpoint peer, byte[] pub) {
    if (plaintext) {
      return new Link(peer, pub, null, null, null, System.nanoTime());
    }
    if (pub.length != 32) {
      return null;
    }
    byte[] shared = X25519.agree(privateKey, X25519.publicKey(pub));
    if (shared == null) {
      return null;
    }
    byte[] prk0 = Kdf.extract("semnet-tunnel-v1 static", shared);
    byte[] mine = publicKey;
    SecretKey send = aeadKey(Kdf.expand(prk0, "handshake", mine, pub));
    SecretKey recv = aeadKey(Kdf.expand(prk0, "handshake", pub, mine));
    return new Link(peer, pub, send, recv, prk0, System.nanoTime());
  }

  SecretKey aeadKey(byte[] k) {
    return new SecretKeySpec(k, 0, 32, suite.keyAlgorithm());
  }

  /** [initiator→responder, responder→initiator] keys of one handshake. */
  static byte[][] sessionKeys(byte[] prk0, byte[] dh, byte[] ephI, byte[] ephR, int keyId, int epochI, int epochR) {
    byte[] ctx = ByteBuffer.allocate(9).put((byte) keyId).putInt(epochI).putInt(epochR).array();
    byte[] prk = Kdf.hmac(prk0, dh, ephI, ephR, ctx);
    return new byte[][] {Kdf.expand(prk, "initiator->responder"), Kdf.expand(prk, "responder->initiator")};
  }

  /** The X25519 agreement of an ephemeral private key with a peer's raw ephemeral key, or null if it is unusable. */
  static byte[] agreeEphemeral(PrivateKey mine, byte[] peerRaw) {
    try {
      return X25519.agree(mine, X25519.publicKey(peerRaw));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  static KeyPair ephemeral() {
    try {
      return KeyPairGenerator.getInstance("X25519").generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
