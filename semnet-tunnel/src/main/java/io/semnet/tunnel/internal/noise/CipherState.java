package io.semnet.tunnel.internal.noise;

import io.semnet.tunnel.CipherSuite;
import java.security.GeneralSecurityException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * A Noise CipherState (spec rev 34, section 5.1): a key {@code k} (possibly empty) and a 64-bit
 * nonce {@code n}. Nonces are {@code 32 zero bits || n}, n big-endian for AESGCM and little-endian
 * for ChaChaPoly. Each successful encryption or decryption increments n; a failed decryption leaves
 * it unchanged; the reserved nonce 2^64-1 is never used (the state refuses instead). Not
 * thread-safe: one owner at a time. Handshake and vector paths only; it allocates per call.
 */
public final class CipherState {
  private final CipherSuite suite;
  private SecretKey key;
  private long n;
  private Cipher cipher;

  /** An empty CipherState for {@code suite}. */
  public CipherState(CipherSuite suite) {
    this.suite = suite;
  }

  /** InitializeKey: sets k (32 bytes, copied) and n = 0. */
  public void initializeKey(byte[] k) {
    if (k.length != 32) {
      throw new IllegalArgumentException("cipher keys have 32 bytes");
    }
    key = new SecretKeySpec(k, suite.keyAlgorithm());
    n = 0;
  }

  /** HasKey. */
  public boolean hasKey() {
    return key != null;
  }

  /** The next nonce value. */
  public long nonce() {
    return n;
  }

  /** The key bytes (a copy), or null if empty. For handing the session key to the data path. */
  public byte[] keyBytes() {
    return key == null ? null : key.getEncoded();
  }

  /** The cipher suite. */
  public CipherSuite suite() {
    return suite;
  }

  /** EncryptWithAd: the ciphertext with tag, or the plaintext itself (copied) if k is empty. */
  public byte[] encryptWithAd(byte[] ad, byte[] plaintext) {
    return key == null ? plaintext.clone() : crypt(Cipher.ENCRYPT_MODE, ad, plaintext);
  }

  /**
   * DecryptWithAd: the plaintext, or null if authentication fails or the input is shorter than a
   * tag (n unchanged then). If k is empty, the input itself (copied).
   */
  public byte[] decryptWithAd(byte[] ad, byte[] ciphertext) {
    if (key == null) {
      return ciphertext.clone();
    }
    return ciphertext.length < Noise.TAGLEN ? null : crypt(Cipher.DECRYPT_MODE, ad, ciphertext);
  }

  private byte[] crypt(int mode, byte[] ad, byte[] input) {
    if (n == -1L) {
      throw new IllegalStateException("nonce space exhausted: rekey with a new handshake");
    }
    try {
      if (cipher == null) {
        cipher = Cipher.getInstance(suite.transformation());
      }
      byte[] out = Noise.aead(suite, cipher, mode, key, iv(n), ad, input);
      n++;
      return out;
    } catch (AEADBadTagException e) {
      return null;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AEAD failed", e);
    }
  }

  private byte[] iv(long nonce) {
    byte[] iv = new byte[12];
    for (int i = 0; i < 8; i++) {
      int shift = suite == CipherSuite.AES_256_GCM ? 56 - 8 * i : 8 * i;
      iv[4 + i] = (byte) (nonce >>> shift);
    }
    return iv;
  }

  @Override
  public String toString() {
    return "CipherState[" + suite + ", hasKey=" + hasKey() + ", n=" + n + "]";
  }
}
