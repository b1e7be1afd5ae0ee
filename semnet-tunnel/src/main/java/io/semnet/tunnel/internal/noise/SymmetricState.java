package io.semnet.tunnel.internal.noise;

import io.semnet.tunnel.CipherSuite;
import java.nio.charset.StandardCharsets;

/**
 * A Noise SymmetricState (spec rev 34, section 5.2) with SHA-256: chaining key {@code ck},
 * handshake hash {@code h} and a {@link CipherState}. Not thread-safe.
 */
public final class SymmetricState {
  private final CipherSuite suite;
  private final CipherState cipher;
  private byte[] ck;
  private byte[] h;

  /**
   * InitializeSymmetric(protocolName): h is the name padded with zeros if it has at most HASHLEN
   * bytes, else HASH(name); ck = h; the cipher state is empty.
   */
  public SymmetricState(CipherSuite suite, String protocolName) {
    this.suite = suite;
    byte[] name = protocolName.getBytes(StandardCharsets.US_ASCII);
    if (name.length <= Noise.HASHLEN) {
      h = new byte[Noise.HASHLEN];
      System.arraycopy(name, 0, h, 0, name.length);
    } else {
      h = Noise.hash(name);
    }
    ck = h.clone();
    cipher = new CipherState(suite);
  }

  /** MixKey(ikm): ck, tempK = HKDF(ck, ikm, 2); InitializeKey(tempK). */
  public void mixKey(byte[] ikm) {
    byte[][] out = Noise.hkdf(ck, ikm, 2);
    ck = out[0];
    cipher.initializeKey(out[1]);
  }

  /** MixHash(data): h = HASH(h || data). */
  public void mixHash(byte[] data) {
    h = Noise.hash(h, data);
  }

  /** EncryptAndHash: ciphertext = EncryptWithAd(h, plaintext); MixHash(ciphertext). */
  public byte[] encryptAndHash(byte[] plaintext) {
    byte[] c = cipher.encryptWithAd(h, plaintext);
    mixHash(c);
    return c;
  }

  /** DecryptAndHash: the plaintext, or null on authentication failure (h unchanged then). */
  public byte[] decryptAndHash(byte[] ciphertext) {
    byte[] p = cipher.decryptWithAd(h, ciphertext);
    if (p != null) {
      mixHash(ciphertext);
    }
    return p;
  }

  /** Whether a key has been mixed in (payloads are encrypted from then on). */
  public boolean hasKey() {
    return cipher.hasKey();
  }

  /** The handshake hash h (a copy). */
  public byte[] handshakeHash() {
    return h.clone();
  }

  /** Split(): two CipherStates, the first for initiator to responder, the second the reverse. */
  public CipherState[] split() {
    byte[][] out = Noise.hkdf(ck, new byte[0], 2);
    CipherState c1 = new CipherState(suite);
    CipherState c2 = new CipherState(suite);
    c1.initializeKey(out[0]);
    c2.initializeKey(out[1]);
    return new CipherState[] {c1, c2};
  }
}
