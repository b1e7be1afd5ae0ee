package io.semnet.tunnel.internal;

import io.semnet.tunnel.CipherSuite;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.Provider;
import java.security.spec.AlgorithmParameterSpec;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import org.conscrypt.Conscrypt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sealing and opening with one encrypting and one decrypting {@link Cipher} per thread and suite (Cipher objects are not
 * thread-safe, and creating one per packet costs far more than re-initialising it). The nonce is
 * always {@code epoch(4) || counter(8)} from the datagram header, so it is never sent twice under
 * one key (see the module README).
 *
 * <p>The ciphers come from the JDK unless the system property {@code semnet.tunnel.aead} is
 * {@code conscrypt} (BoringSSL through Conscrypt's bundled native library; an error if it does not
 * load; {@code auto}: Conscrypt where it loads). Both produce the same bytes (AES-256-GCM and
 * ChaCha20-Poly1305 are standard), so nodes with different providers interoperate. Measured (see
 * the module README): Conscrypt allocates 336 B per seal+open of 1,400 bytes against the JDK's
 * 2.2–6.2 KB, but end to end (run.sh, SemNet path, alternating runs under load) the JDK carried
 * 0.76–0.78 Gbit/s at 45–49 CPU s/GB against Conscrypt's 0.45–0.48 at 78–86: Conscrypt sets up a
 * new BoringSSL AEAD context (key schedule) on every seal and open (its JNI calls take the raw key), while
 * the JDK keeps the expanded key. So the JDK stays the default.
 */
public final class Aead {
  public static final int TAG_BYTES = 16;
  public static final int NONCE_BYTES = 12;

  private static final Logger log = LoggerFactory.getLogger(Aead.class);
  /** Conscrypt's provider, or null for the JDK's. */
  private static final Provider PROVIDER = chooseProvider(System.getProperty("semnet.tunnel.aead", "jdk"));

  private static final ThreadLocal<Aead[]> PER_THREAD = ThreadLocal.withInitial(() -> new Aead[CipherSuite.values().length]);

  private final CipherSuite suite;
  private final Cipher encrypt;
  private final Cipher decrypt;
  private final byte[] nonce = new byte[NONCE_BYTES];
  /** Conscrypt: heap buffers go through these direct ones (it would copy them per call); created on first use. */
  private final boolean stageHeap;
  private ByteBuffer stageIn;
  private ByteBuffer stageOut;

  private Aead(CipherSuite suite) {
    this(suite, PROVIDER);
  }

  /** An instance with ciphers from {@code provider} (null: the JDK's); for tests of interoperation. */
  Aead(CipherSuite suite, Provider provider) {
    this.suite = suite;
    this.stageHeap = provider != null;
    try {
      this.encrypt = newCipher(suite, provider);
      this.decrypt = newCipher(suite, provider);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(suite + " is not available from " + providerName(), e);
    }
  }

  /** The name of the provider the ciphers come from ("Conscrypt" or "JDK"). */
  public static String providerName() {
    return PROVIDER == null ? "JDK" : PROVIDER.getName();
  }

  private static Provider chooseProvider(String wanted) {
    if (!wanted.equals("conscrypt") && !wanted.equals("auto")) {
      return null;
    }
    Throwable why = null;
    try {
      if (Conscrypt.isAvailable()) {
        return Conscrypt.newProvider();
      }
    } catch (LinkageError | RuntimeException e) {
      why = e;
    }
    if (wanted.equals("conscrypt")) {
      throw new IllegalStateException("semnet.tunnel.aead=conscrypt, but Conscrypt is not available here (add org.conscrypt:conscrypt-openjdk-uber to the class path)", why);
    }
    log.info("Conscrypt is not available on this platform; the tunnel uses the JDK's AEAD ciphers");
    return null;
  }

  private static Cipher newCipher(CipherSuite suite, Provider provider) throws GeneralSecurityException {
    if (provider == null) {
      return Cipher.getInstance(suite.transformation());
    }
    return Cipher.getInstance(suite == CipherSuite.AES_256_GCM ? suite.transformation() : "ChaCha20/Poly1305/NoPadding", provider);
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
      return doFinal(encrypt, in, out);
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
      return doFinal(decrypt, in, out);
    } catch (GeneralSecurityException | IllegalStateException e) {
      return -1;
    }
  }

  /**
   * {@code c.doFinal(in, out)}; with Conscrypt, heap buffers are first copied into this instance's
   * direct buffers (Conscrypt's own copy of a heap buffer allocates per call: 880 B per seal+open
   * of 1,400 bytes measured, against 336 B direct).
   */
  private int doFinal(Cipher c, ByteBuffer in, ByteBuffer out) throws GeneralSecurityException {
    if (!stageHeap || in.isDirect() && out.isDirect()) {
      return c.doFinal(in, out);
    }
    int n = in.remaining() + TAG_BYTES;
    if (stageIn == null || stageIn.capacity() < n) {
      stageIn = ByteBuffer.allocateDirect(Math.max(n, 2048));
      stageOut = ByteBuffer.allocateDirect(Math.max(n, 2048));
    }
    ByteBuffer si = stageIn.clear();
    si.put(in).flip();
    ByteBuffer so = stageOut.clear();
    int r = c.doFinal(si, so);
    if (out.remaining() < r) {
      throw new ShortBufferException(r + " bytes do not fit in " + out.remaining());
    }
    out.put(so.flip());
    return r;
  }
}
