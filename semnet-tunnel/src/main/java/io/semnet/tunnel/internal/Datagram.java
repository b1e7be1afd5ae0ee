package io.semnet.tunnel.internal;

import java.nio.ByteBuffer;
import javax.crypto.SecretKey;
import io.semnet.tunnel.CipherSuite;

/**
 * The tunnel datagram header and the seal/open of one datagram (the byte layout is drawn in the
 * module README). All methods work on NIO buffers at absolute or current positions and allocate
 * nothing beyond what the JDK cipher does.
 *
 * <pre>
 * 0       1       2       3       4               8                              16
 * | ver=1 | type  | keyId | flags | epoch (u32)   | counter (u64)                 | body... | tag(16)
 * </pre>
 */
public final class Datagram {
  public static final int VERSION = 1;
  public static final int HEADER_BYTES = 16;

  public static final int TYPE_DATA = 1;
  public static final int TYPE_ROUTE_NOT_FOUND = 2;
  public static final int TYPE_PROBE = 3;
  public static final int TYPE_PROBE_ECHO = 4;
  public static final int TYPE_FIRST_CONTACT = 5;
  public static final int TYPE_FIRST_CONTACT_REPLY = 6;

  /** Set when the body is not sealed (plaintext mode). */
  public static final int FLAG_PLAINTEXT = 0x01;

  private static final ThreadLocal<byte[]> HEADER = ThreadLocal.withInitial(() -> new byte[HEADER_BYTES]);

  private Datagram() {}

  public static boolean knownType(int type) {
    return type >= TYPE_DATA && type <= TYPE_FIRST_CONTACT_REPLY;
  }

  public static int version(ByteBuffer d) {
    return d.get(d.position()) & 0xff;
  }

  public static int type(ByteBuffer d) {
    return d.get(d.position() + 1) & 0xff;
  }

  public static int keyId(ByteBuffer d) {
    return d.get(d.position() + 2) & 0xff;
  }

  public static int flags(ByteBuffer d) {
    return d.get(d.position() + 3) & 0xff;
  }

  public static int epoch(ByteBuffer d) {
    return d.getInt(d.position() + 4);
  }

  public static long counter(ByteBuffer d) {
    return d.getLong(d.position() + 8);
  }

  /** Writes a header into {@code h} (16 bytes). */
  public static void header(byte[] h, int type, int keyId, int flags, int epoch, long counter) {
    h[0] = (byte) VERSION;
    h[1] = (byte) type;
    h[2] = (byte) keyId;
    h[3] = (byte) flags;
    h[4] = (byte) (epoch >>> 24);
    h[5] = (byte) (epoch >>> 16);
    h[6] = (byte) (epoch >>> 8);
    h[7] = (byte) epoch;
    for (int i = 0; i < 8; i++) {
      h[8 + i] = (byte) (counter >>> (56 - 8 * i));
    }
  }

  /** Bytes a datagram with an {@code innerBytes} body takes. */
  public static int size(int innerBytes, boolean plaintext) {
    return HEADER_BYTES + innerBytes + (plaintext ? 0 : Aead.TAG_BYTES);
  }

  /**
   * Writes header and sealed body of {@code payload} (position to limit, consumed) into {@code out}
   * at its position (which advances). With a null key the body is copied in clear and the plaintext
   * flag set. Returns the datagram length.
   */
  public static int seal(CipherSuite suite, SecretKey key, int type, int keyId, int epoch, long counter, ByteBuffer payload, ByteBuffer out) {
    byte[] h = HEADER.get();
    int start = out.position();
    if (key == null) {
      header(h, type, keyId, FLAG_PLAINTEXT, epoch, counter);
      out.put(h);
      out.put(payload);
    } else {
      header(h, type, keyId, 0, epoch, counter);
      out.put(h);
      Aead.forThread(suite).seal(key, epoch, counter, h, HEADER_BYTES, payload, out);
    }
    return out.position() - start;
  }

  /**
   * Authenticates and decrypts the body of datagram {@code d} (position to limit; header already
   * checked) into {@code out} at its position. With a null key the body is copied. Returns the
   * body length, or -1 if authentication fails.
   */
  public static int open(CipherSuite suite, SecretKey key, ByteBuffer d, ByteBuffer out) {
    int pos = d.position();
    if (key == null) {
      int n = d.remaining() - HEADER_BYTES;
      if (n < 0 || out.remaining() < n) {
        return -1;
      }
      d.position(pos + HEADER_BYTES);
      out.put(d);
      d.position(pos);
      return n;
    }
    byte[] h = HEADER.get();
    d.get(pos, h, 0, HEADER_BYTES);
    int limit = d.limit();
    d.position(pos + HEADER_BYTES);
    try {
      return Aead.forThread(suite).open(key, epoch(h), counter(h), h, HEADER_BYTES, d, out);
    } finally {
      d.limit(limit);
      d.position(pos);
    }
  }

  static int epoch(byte[] h) {
    return ((h[4] & 0xff) << 24) | ((h[5] & 0xff) << 16) | ((h[6] & 0xff) << 8) | (h[7] & 0xff);
  }

  static long counter(byte[] h) {
    long c = 0;
    for (int i = 8; i < 16; i++) {
      c = (c << 8) | (h[i] & 0xff);
    }
    return c;
  }
}
