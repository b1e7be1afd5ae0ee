package io.semnet.mdns.internal;

import java.nio.charset.StandardCharsets;

/** Conversions between wire-form names (length-prefixed labels) and presentation text. */
public final class WireNames {
  private WireNames() {}

  /** Hash of a lower-case wire name, the same as {@link QueryParser} computes while decoding. */
  public static int hash(byte[] lower, int len) {
    int h = 1;
    for (int i = 0; i < len - 1; i++) {
      h = 31 * h + lower[i];
    }
    return h;
  }

  /**
   * The presentation form without the trailing dot ("" for the root). Bytes outside printable ASCII
   * and dots inside labels are escaped as \DDD so that such a label can never parse as a valid one.
   */
  public static String toPresentation(byte[] wire, int len) {
    StringBuilder sb = new StringBuilder(len);
    int pos = 0;
    while (pos < len && wire[pos] != 0) {
      int l = wire[pos] & 0xff;
      if (sb.length() > 0) {
        sb.append('.');
      }
      for (int i = 1; i <= l; i++) {
        int c = wire[pos + i] & 0xff;
        if (c <= 0x20 || c >= 0x7f || c == '.' || c == '\\') {
          sb.append('\\').append((char) ('0' + c / 100)).append((char) ('0' + c / 10 % 10)).append((char) ('0' + c % 10));
        } else {
          sb.append((char) c);
        }
      }
      pos += l + 1;
    }
    return sb.toString();
  }

  /** Encodes a dotted ASCII name (trailing dot optional) as a lower-case wire name. */
  public static byte[] toWire(String name) {
    String n = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    byte[] ascii = n.toLowerCase(java.util.Locale.ROOT).getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[n.isEmpty() ? 1 : ascii.length + 2];
    if (n.isEmpty()) {
      return out;
    }
    int labelStart = 0;
    int o = 0;
    for (int i = 0; i <= ascii.length; i++) {
      if (i == ascii.length || ascii[i] == '.') {
        int l = i - labelStart;
        if (l == 0 || l > 63) {
          throw new IllegalArgumentException("bad label in '" + name + "'");
        }
        out[o++] = (byte) l;
        System.arraycopy(ascii, labelStart, out, o, l);
        o += l;
        labelStart = i + 1;
      }
    }
    out[o] = 0;
    return out;
  }

  /** True if the last label of the wire name equals {@code zone} (lower case, ASCII). */
  public static boolean inZone(byte[] lower, int len, byte[] zoneLabel) {
    int pos = 0;
    int last = -1;
    while (pos < len && lower[pos] != 0) {
      last = pos;
      pos += (lower[pos] & 0xff) + 1;
    }
    if (last < 0 || (lower[last] & 0xff) != zoneLabel.length) {
      return false;
    }
    for (int i = 0; i < zoneLabel.length; i++) {
      if (lower[last + 1 + i] != zoneLabel[i]) {
        return false;
      }
    }
    return true;
  }
}
