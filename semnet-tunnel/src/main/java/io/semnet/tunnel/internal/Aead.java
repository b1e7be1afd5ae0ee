package io.semnet.tunnel.internal;

import io.semnet.tunnel.CipherSuite;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.spec.AlgorithmParameterSpec;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;

/**
 * Sealing and opening with one encrypting and one decrypting {@link Cipher} per thread and suite (Cipher objects are not
 * thread-safe, and creating one per packet costs far more than re-initialising it). The nonce is
 * always {@code epoch(4) || counter(8)} from the datagram header, so it is never sent twice under
 * one key (see the module README).
 */
public final class Aead {
  public static final int TAG_BYTES = 16;
  public static final int NONCE_BYTES = 12;

  private static final ThreadLocal<Aead[]> PER_THREAD = ThreadLocal.withInitial(() -> new Aead[CipherSuite.values().length]);

  private final CipherSuite suite;
  private final Cipher encrypt;
  private final Cipher decrypt;
  private final byte[] nonce = new byte[NONCE_BYTES];

  private Aead(CipherSuite suite) {
    this.suite = suite;
    try {
      this.encrypt = Cipher.getInstance(suite.transformation());
      this.decrypt = Cipher.getInstance(suite.transformation());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(suite + " is not available in this JDK", e);
    }
  }

  /** This thread's instance for {@code suite}. */
  public static Aead forThread(CipherSuite suite) {
    Aead[] a = PER_THREAD.get();
    Aead x = a[suite.ordinal()];
    if (x == null) {
      x = new Aead(suite);
      a[suite.ordinal()] = x;
    }
    return x;
  }

  private AlgorithmParameterSpec params(int epoch, long counter) {
    nonce[0] = (byte) (epoch >>> 24);
    nonce[1] = (byte) (epoch >>> 16);
    nonce[2] = (byte) (epoch >>> 8);
    nonce[3] = (byte) epoch;
    for (int i = 0; i < 8; i++) {
      nonce[4 + i] = (byte) (counter >>> (56 - 8 * i));
    }
    return suite == CipherSuite.AES_256_GCM ? new GCMParameterSpec(TAG_BYTES * 8, nonce) : new IvParameterSpec(nonce);
  }

  /**
   * Encrypts {@code in} (position to limit, consumed) into {@code out} at its position, appending
   * the tag; the first {@code aadLen} bytes of {@code aad} are authenticated. Returns bytes written.
   */
  public int seal(SecretKey key, int epoch, long counter, byte[] aad, int aadLen, ByteBuffer in, ByteBuffer out) {
    try {
      encrypt.init(Cipher.ENCRYPT_MODE, key, params(epoch, counter));
      encrypt.updateAAD(aad, 0, aadLen);
      return encrypt.doFinal(in, out);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("sealing failed", e);
    }
  }

  /**
   * Decrypts and authenticates {@code in} (ciphertext with tag, consumed) into {@code out}.
   * Returns the plaintext length, or -1 if authentication fails (nothing usable is left in out).
   */
  public int open(SecretKey key, int epoch, long counter, byte[] aad, int aadLen, ByteBuffer in, ByteBuffer out) {
    if (in.remaining() < TAG_BYTES || out.remaining() < in.remaining() - TAG_BYTES) {
      return -1;
    }
    try {
      try {
        decrypt.init(Cipher.DECRYPT_MODE, key, params(epoch, counter));
      } catch (InvalidKeyException e) {
        // The JDK's ChaCha20 refuses the key and nonce of its previous init even to decrypt; that
        // happens when a forged datagram took this counter first. Init once with another nonce.
        decrypt.init(Cipher.DECRYPT_MODE, key, params(~epoch, counter));
        decrypt.init(Cipher.DECRYPT_MODE, key, params(epoch, counter));
      }
      decrypt.updateAAD(aad, 0, aadLen);
      return decrypt.doFinal(in, out);
    } catch (GeneralSecurityException | IllegalStateException e) {
      return -1;
    }
  }
}
