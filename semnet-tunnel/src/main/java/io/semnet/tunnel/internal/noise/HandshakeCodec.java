package io.semnet.tunnel.internal.noise;

import java.util.Arrays;

/**
 * Pure codec of the three handshake messages (layouts in the module README, "Handshake (Noise
 * IK)"). All integers big-endian; every message starts with {@code version (2) | type | 0 | 0}, so
 * the version-1 datagram decoder drops it as an unknown version. {@link #parse} never throws for
 * any input: it returns a {@link Parsed} holding either a message or a clear error. Messages are
 * immutable (arrays copied in and out).
 */
public final class HandshakeCodec {
  /** Protocol version in the first byte. */
  public static final int VERSION = 2;
  /** Type byte of an initiation. */
  public static final int TYPE_INITIATION = 1;
  /** Type byte of a response. */
  public static final int TYPE_RESPONSE = 2;
  /** Type byte of a cookie reply. */
  public static final int TYPE_COOKIE_REPLY = 3;

  /** Length of mac1 and mac2. */
  public static final int MAC_BYTES = 16;
  /** Length of the encrypted static key (key + tag). */
  public static final int ENCRYPTED_STATIC_BYTES = Noise.DHLEN + Noise.TAGLEN;
  /** Length of the encrypted TAI64N timestamp. */
  public static final int ENCRYPTED_TIMESTAMP_BYTES = Tai64n.BYTES + Noise.TAGLEN;
  /** Length of the cookie reply nonce. */
  public static final int COOKIE_NONCE_BYTES = 12;
  /** Length of the encrypted cookie (16-byte cookie + tag). */
  public static final int ENCRYPTED_COOKIE_BYTES = MAC_BYTES + Noise.TAGLEN;

  /** Initiation: header, sender, ephemeral, encrypted static, encrypted timestamp, mac1, mac2 = 148 bytes (no extra payload). */
  public static final int INITIATION_BYTES = 4 + 4 + Noise.DHLEN + ENCRYPTED_STATIC_BYTES + ENCRYPTED_TIMESTAMP_BYTES + 2 * MAC_BYTES;
  /** The most bytes an initiation's payload may carry after the timestamp (the tunnel puts the node certificate there). */
  public static final int MAX_EXTRA_PAYLOAD_BYTES = 1024;
  /** The largest initiation. */
  public static final int MAX_INITIATION_BYTES = INITIATION_BYTES + MAX_EXTRA_PAYLOAD_BYTES;
  /** Response: header, sender, receiver, ephemeral, encrypted empty, mac1, mac2 = 92 bytes. */
  public static final int RESPONSE_BYTES = 4 + 4 + 4 + Noise.DHLEN + Noise.TAGLEN + 2 * MAC_BYTES;
  /** Cookie reply: header, receiver, nonce, encrypted cookie = 52 bytes. */
  public static final int COOKIE_REPLY_BYTES = 4 + 4 + COOKIE_NONCE_BYTES + ENCRYPTED_COOKIE_BYTES;

  private HandshakeCodec() {}

  /** A parsed handshake message. */
  public sealed interface Message permits Initiation, Response, CookieReply {}

  /**
   * The first message, initiator to responder. {@link #noise} is the Noise message 1; its encrypted
   * payload is the timestamp followed by up to {@link #MAX_EXTRA_PAYLOAD_BYTES} more bytes.
   */
  public record Initiation(int senderIndex, byte[] ephemeral, byte[] encryptedStatic, byte[] encryptedTimestamp, byte[] mac1, byte[] mac2)
      implements Message {
    /** Checks lengths and copies the arrays. */
    public Initiation {
      ephemeral = exact(ephemeral, Noise.DHLEN, "ephemeral");
      encryptedStatic = exact(encryptedStatic, ENCRYPTED_STATIC_BYTES, "encrypted static");
      if (encryptedTimestamp == null || encryptedTimestamp.length < ENCRYPTED_TIMESTAMP_BYTES
          || encryptedTimestamp.length > ENCRYPTED_TIMESTAMP_BYTES + MAX_EXTRA_PAYLOAD_BYTES) {
        throw new IllegalArgumentException("encrypted payload must have " + ENCRYPTED_TIMESTAMP_BYTES + ".."
            + (ENCRYPTED_TIMESTAMP_BYTES + MAX_EXTRA_PAYLOAD_BYTES) + " bytes");
      }
      encryptedTimestamp = encryptedTimestamp.clone();
      mac1 = exact(mac1, MAC_BYTES, "mac1");
      mac2 = exact(mac2, MAC_BYTES, "mac2");
    }

    /** An initiation carrying Noise message 1 ({@code e || enc(s) || enc(timestamp)}) and zero MACs. */
    public static Initiation of(int senderIndex, byte[] noise) {
      int min = Noise.DHLEN + ENCRYPTED_STATIC_BYTES + ENCRYPTED_TIMESTAMP_BYTES;
      if (noise.length < min || noise.length > min + MAX_EXTRA_PAYLOAD_BYTES) {
        throw new IllegalArgumentException("Noise message 1 has " + noise.length + " bytes");
      }
      int s = Noise.DHLEN;
      int t = s + ENCRYPTED_STATIC_BYTES;
      return new Initiation(senderIndex, Arrays.copyOfRange(noise, 0, s), Arrays.copyOfRange(noise, s, t),
          Arrays.copyOfRange(noise, t, noise.length), new byte[MAC_BYTES], new byte[MAC_BYTES]);
    }

    /** The Noise message 1 bytes. */
    public byte[] noise() {
      return concat(ephemeral, encryptedStatic, encryptedTimestamp);
    }

    @Override public byte[] ephemeral() { return ephemeral.clone(); }
    @Override public byte[] encryptedStatic() { return encryptedStatic.clone(); }
    @Override public byte[] encryptedTimestamp() { return encryptedTimestamp.clone(); }
    @Override public byte[] mac1() { return mac1.clone(); }
    @Override public byte[] mac2() { return mac2.clone(); }
  }

  /** The second message, responder to initiator. {@link #noise} is the Noise message 2. */
  public record Response(int senderIndex, int receiverIndex, byte[] ephemeral, byte[] encryptedEmpty, byte[] mac1, byte[] mac2)
      implements Message {
    /** Checks lengths and copies the arrays. */
    public Response {
      ephemeral = exact(ephemeral, Noise.DHLEN, "ephemeral");
      encryptedEmpty = exact(encryptedEmpty, Noise.TAGLEN, "encrypted empty payload");
      mac1 = exact(mac1, MAC_BYTES, "mac1");
      mac2 = exact(mac2, MAC_BYTES, "mac2");
    }

    /** A response carrying Noise message 2 ({@code e || enc(empty)}) and zero MACs. */
    public static Response of(int senderIndex, int receiverIndex, byte[] noise) {
      if (noise.length != Noise.DHLEN + Noise.TAGLEN) {
        throw new IllegalArgumentException("Noise message 2 has " + noise.length + " bytes");
      }
      return new Response(senderIndex, receiverIndex, Arrays.copyOfRange(noise, 0, Noise.DHLEN),
          Arrays.copyOfRange(noise, Noise.DHLEN, noise.length), new byte[MAC_BYTES], new byte[MAC_BYTES]);
    }

    /** The Noise message 2 bytes. */
    public byte[] noise() {
      return concat(ephemeral, encryptedEmpty);
    }

    @Override public byte[] ephemeral() { return ephemeral.clone(); }
    @Override public byte[] encryptedEmpty() { return encryptedEmpty.clone(); }
    @Override public byte[] mac1() { return mac1.clone(); }
    @Override public byte[] mac2() { return mac2.clone(); }
  }

  /** The responder's answer to an initiation or response it will not process without a valid mac2. */
  public record CookieReply(int receiverIndex, byte[] nonce, byte[] encryptedCookie) implements Message {
    /** Checks lengths and copies the arrays. */
    public CookieReply {
      nonce = exact(nonce, COOKIE_NONCE_BYTES, "nonce");
      encryptedCookie = exact(encryptedCookie, ENCRYPTED_COOKIE_BYTES, "encrypted cookie");
    }

    @Override public byte[] nonce() { return nonce.clone(); }
    @Override public byte[] encryptedCookie() { return encryptedCookie.clone(); }
  }

  /** The outcome of {@link #parse}: exactly one of {@code message} and {@code error} is non-null. */
  public record Parsed(Message message, String error) {
    static Parsed error(String error) {
      return new Parsed(null, error);
    }

    /** Whether a message was parsed. */
    public boolean ok() {
      return message != null;
    }
  }

  /** The message type of {@code buf[off]...}, or -1 if it is not a version-2 handshake header. */
  public static int type(byte[] buf, int off, int len) {
    if (buf == null || off < 0 || len < 4 || off > buf.length - len || (buf[off] & 0xff) != VERSION) {
      return -1;
    }
    return buf[off + 1] & 0xff;
  }

  /** Parses {@code buf[off, off+len)}; never throws. */
  public static Parsed parse(byte[] buf, int off, int len) {
    if (buf == null || off < 0 || len < 0 || off > buf.length - len) {
      return Parsed.error("bad buffer bounds");
    }
    if (len < 4) {
      return Parsed.error("truncated header: " + len + " of 4 bytes");
    }
    int version = buf[off] & 0xff;
    if (version != VERSION) {
      return Parsed.error("unknown version " + version);
    }
    if (buf[off + 2] != 0 || buf[off + 3] != 0) {
      return Parsed.error("reserved header bytes are not zero");
    }
    int type = buf[off + 1] & 0xff;
    int expected = switch (type) {
      case TYPE_INITIATION -> INITIATION_BYTES;
      case TYPE_RESPONSE -> RESPONSE_BYTES;
      case TYPE_COOKIE_REPLY -> COOKIE_REPLY_BYTES;
      default -> -1;
    };
    if (expected < 0) {
      return Parsed.error("unknown type " + type);
    }
    boolean fits = type == TYPE_INITIATION ? len >= expected && len <= MAX_INITIATION_BYTES : len == expected;
    if (!fits) {
      return Parsed.error("type " + type + " has " + expected + (type == TYPE_INITIATION ? "+" : "") + " bytes, got " + len);
    }
    Reader r = new Reader(buf, off + 4);
    Message m = switch (type) {
      case TYPE_INITIATION -> new Initiation(r.u32(), r.bytes(Noise.DHLEN), r.bytes(ENCRYPTED_STATIC_BYTES),
          r.bytes(ENCRYPTED_TIMESTAMP_BYTES + len - INITIATION_BYTES), r.bytes(MAC_BYTES), r.bytes(MAC_BYTES));
      case TYPE_RESPONSE -> new Response(r.u32(), r.u32(), r.bytes(Noise.DHLEN), r.bytes(Noise.TAGLEN), r.bytes(MAC_BYTES),
          r.bytes(MAC_BYTES));
      default -> new CookieReply(r.u32(), r.bytes(COOKIE_NONCE_BYTES), r.bytes(ENCRYPTED_COOKIE_BYTES));
    };
    return new Parsed(m, null);
  }

  /** The wire bytes of {@code m}. */
  public static byte[] serialize(Message m) {
    if (m instanceof Initiation i) {
      return concat(header(TYPE_INITIATION), u32(i.senderIndex()), i.ephemeral, i.encryptedStatic, i.encryptedTimestamp, i.mac1, i.mac2);
    }
    if (m instanceof Response r) {
      return concat(header(TYPE_RESPONSE), u32(r.senderIndex()), u32(r.receiverIndex()), r.ephemeral, r.encryptedEmpty, r.mac1,
          r.mac2);
    }
    CookieReply c = (CookieReply) m;
    return concat(header(TYPE_COOKIE_REPLY), u32(c.receiverIndex()), c.nonce, c.encryptedCookie);
  }

  private static byte[] header(int type) {
    return new byte[] {(byte) VERSION, (byte) type, 0, 0};
  }

  private static byte[] u32(int v) {
    return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
  }

  private static byte[] exact(byte[] b, int len, String what) {
    if (b == null || b.length != len) {
      throw new IllegalArgumentException(what + " must have " + len + " bytes");
    }
    return b.clone();
  }

  static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }

  /** Sequential reads within bounds already checked by {@link #parse}. */
  private static final class Reader {
    private final byte[] buf;
    private int at;

    Reader(byte[] buf, int at) {
      this.buf = buf;
      this.at = at;
    }

    int u32() {
      int v = (buf[at] & 0xff) << 24 | (buf[at + 1] & 0xff) << 16 | (buf[at + 2] & 0xff) << 8 | (buf[at + 3] & 0xff);
      at += 4;
      return v;
    }

    byte[] bytes(int n) {
      byte[] out = Arrays.copyOfRange(buf, at, at + n);
      at += n;
      return out;
    }
  }
}
