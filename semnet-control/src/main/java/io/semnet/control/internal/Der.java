package io.semnet.control.internal;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** The few DER encodings an X.509 certificate needs (definite lengths, no parsing). */
public final class Der {
  private static final DateTimeFormatter UTC_TIME = DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'").withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter GENERALIZED = DateTimeFormatter.ofPattern("yyyyMMddHHmmss'Z'").withZone(ZoneOffset.UTC);

  private Der() {}

  public static byte[] tlv(int tag, byte[]... parts) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      body.writeBytes(p);
    }
    int n = body.size();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(tag);
    if (n < 0x80) {
      out.write(n);
    } else if (n < 0x100) {
      out.write(0x81);
      out.write(n);
    } else if (n < 0x10000) {
      out.write(0x82);
      out.write(n >>> 8);
      out.write(n);
    } else {
      out.write(0x83);
      out.write(n >>> 16);
      out.write(n >>> 8);
      out.write(n);
    }
    out.writeBytes(body.toByteArray());
    return out.toByteArray();
  }

  public static byte[] seq(byte[]... parts) {
    return tlv(0x30, parts);
  }

  public static byte[] set(byte[]... parts) {
    return tlv(0x31, parts);
  }

  public static byte[] integer(BigInteger v) {
    return tlv(0x02, v.toByteArray());
  }

  public static byte[] bool(boolean v) {
    return tlv(0x01, new byte[] {(byte) (v ? 0xff : 0)});
  }

  public static byte[] nul() {
    return new byte[] {0x05, 0x00};
  }

  public static byte[] octets(byte[] b) {
    return tlv(0x04, b);
  }

  /** A BIT STRING of whole bytes (no unused bits). */
  public static byte[] bits(byte[] b) {
    byte[] v = new byte[b.length + 1];
    System.arraycopy(b, 0, v, 1, b.length);
    return tlv(0x03, v);
  }

  public static byte[] utf8(String s) {
    return tlv(0x0c, s.getBytes(StandardCharsets.UTF_8));
  }

  /** UTCTime until 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5). */
  public static byte[] time(Instant t) {
    return t.atZone(ZoneOffset.UTC).getYear() < 2050 ? tlv(0x17, UTC_TIME.format(t).getBytes(StandardCharsets.US_ASCII))
        : tlv(0x18, GENERALIZED.format(t).getBytes(StandardCharsets.US_ASCII));
  }

  public static byte[] explicit(int tagNumber, byte[] inner) {
    return tlv(0xa0 | tagNumber, inner);
  }

  public static byte[] oid(String dotted) {
    String[] p = dotted.split("\\.");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    base128(out, Long.parseLong(p[0]) * 40 + Long.parseLong(p[1]));
    for (int i = 2; i < p.length; i++) {
      base128(out, Long.parseLong(p[i]));
    }
    return tlv(0x06, out.toByteArray());
  }

  private static void base128(ByteArrayOutputStream out, long v) {
    int groups = 1;
    for (long x = v >>> 7; x != 0; x >>>= 7) {
      groups++;
    }
    for (int g = groups - 1; g >= 0; g--) {
      int b = (int) ((v >>> (7 * g)) & 0x7f);
      out.write(g == 0 ? b : b | 0x80);
    }
  }
}
