package io.semnet.tunnel.internal;

import io.semnet.tunnel.CipherSuite;
import java.nio.ByteBuffer;
import javax.crypto.SecretKey;

/**
 * The version-2 tunnel transport datagram and the seal/open of one datagram (the byte layout is
 * drawn in the module README). Handshake messages (types 1–3) share the version byte and are coded
 * by {@code internal.noise.HandshakeCodec}. All methods work on NIO buffers at absolute or current
 * positions and allocate nothing beyond what the JDK cipher does.
 *
 * <pre>
 * 0       1       2       3       4                      8                              16
 * | ver=2 | type  | flags | 0     | receiver index (u32) | counter (u64)                 | body... | tag(16)
 * </pre>
 */
public final class Datagram {
  public static final int VERSION = 2;
  public static final int HEADER_BYTES = 16;

  /** Handshake types (coded by HandshakeCodec). */
  public static final int TYPE_INITIATION = 1;
  public static final int TYPE_RESPONSE = 2;
  public static final int TYPE_COOKIE_REPLY = 3;
  /** Transport types. */
  public static final int TYPE_DATA = 4;
  public static final int TYPE_ROUTE_NOT_FOUND = 5;
  public static final int TYPE_PROBE = 6;
  public static final int TYPE_PROBE_ECHO = 7;

  /** Set when the body is not sealed (plaintext mode). */
  public static final int FLAG_PLAINTEXT = 0x01;

  private static final ThreadLocal<byte[]> HEADER = ThreadLocal.withInitial(() -> new byte[HEADER_BYTES]);

  private Datagram() {}

  public static boolean knownType(int type) {
    return type >= TYPE_INITIATION && type <= TYPE_PROBE_ECHO;
  }

  public static boolean transportType(int type) {
    return type >= TYPE_DATA && type <= TYPE_PROBE_ECHO;
  }

  public static int version(ByteBuffer d) {
    return d.get(d.position()) & 0xff;
  }

  public static int type(ByteBuffer d) {
    return d.get(d.position() + 1) & 0xff;
  }

  public static int flags(ByteBuffer d) {
    return d.get(d.position() + 2) & 0xff;
  }

  public static int reserved(ByteBuffer d) {
    return d.get(d.position() + 3) & 0xff;
  }

  public static int receiverIndex(ByteBuffer d) {
    return d.getInt(d.position() + 4);
  }

  public static long counter(ByteBuffer d) {
    return d.getLong(d.position() + 8);
  }

  /** Writes a transport header into {@code h} (16 bytes). */
  public static void header(byte[] h, int type, int flags, int receiverIndex, long counter) {
    h[0] = (byte) VERSION;
    h[1] = (byte) type;
    h[2] = (byte) flags;
    h[3] = 0;
    h[4] = (byte) (receiverIndex >>> 24);
    h[5] = (byte) (receiverIndex >>> 16);
    h[6] = (byte) (receiverIndex >>> 8);
    h[7] = (byte) receiverIndex;
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
   * at its position (which advances). The nonce is {@code 0 (4 bytes) || counter}; the header is
   * the associated data. With a null key the body is copied in clear and the plaintext flag set.
   * Returns the datagram length.
   */
  public static int seal(CipherSuite suite, SecretKey key, int type, int receiverIndex, long counter, ByteBuffer payload, ByteBuffer out) {
    byte[] h = HEADER.get();
    int start = out.position();
    if (key == null) {
      header(h, type, FLAG_PLAINTEXT, receiverIndex, counter);
      out.put(h);
      out.put(payload);
    } else {
      header(h, type, 0, receiverIndex, counter);
      out.put(h);
      Aead.forThread(suite).seal(key, 0, counter, h, HEADER_BYTES, payload, out);
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
      return Aead.forThread(suite).open(key, 0, counter(h), h, HEADER_BYTES, d, out);
    } finally {
      d.limit(limit);
      d.position(pos);
    }
  }

  static long counter(byte[] h) {
    long c = 0;
    for (int i = 8; i < 16; i++) {
      c = (c << 8) | (h[i] & 0xff);
    }
    return c;
  }
}
