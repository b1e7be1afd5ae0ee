package io.semnet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.Addresses;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;

/** Crafts test packets with correct checksums and verifies checksums by full recomputation. */
public final class Pkt {
  private Pkt() {}

  public static byte[] tcp(int sp, int dp, int flags, int mss, int payload) {
    int opt = mss > 0 ? 4 : 0;
    byte[] t = new byte[20 + opt + payload];
    ByteBuffer b = ByteBuffer.wrap(t);
    b.putShort(0, (short) sp).putShort(2, (short) dp).putInt(4, 1000).putInt(8, 0);
    b.put(12, (byte) (((20 + opt) / 4) << 4)).put(13, (byte) flags).putShort(14, (short) 65535);
    if (mss > 0) {
      b.put(20, (byte) 2).put(21, (byte) 4).putShort(22, (short) mss);
    }
    for (int i = 20 + opt; i < t.length; i++) {
      t[i] = (byte) (i * 7);
    }
    return t;
  }

  public static byte[] udp(int sp, int dp, int payload) {
    byte[] u = new byte[8 + payload];
    ByteBuffer.wrap(u).putShort(0, (short) sp).putShort(2, (short) dp).putShort(4, (short) u.length);
    for (int i = 8; i < u.length; i++) {
      u[i] = (byte) (i * 13 + 1);
    }
    return u;
  }

  public static byte[] echo(boolean v6, boolean request, int id, int seq) {
    byte[] e = new byte[16];
    int type = v6 ? (request ? 128 : 129) : (request ? 8 : 0);
    ByteBuffer.wrap(e).put(0, (byte) type).putShort(4, (short) id).putShort(6, (short) seq).putLong(8, 0x0123456789abcdefL);
    return e;
  }

  /** An ICMP/ICMPv6 error of {@code type/code} quoting {@code quoted} (as much as given). */
  public static byte[] icmpError(int type, int code, int extra, byte[] quoted) {
    byte[] e = new byte[8 + quoted.length];
    ByteBuffer.wrap(e).put(0, (byte) type).put(1, (byte) code).putInt(4, extra);
    System.arraycopy(quoted, 0, e, 8, quoted.length);
    return e;
  }

  public static byte[] v4(String src, String dst, int proto, byte[] l4) {
    return v4(src, dst, proto, l4, 64, true, 0x1234, 0, false, new byte[0]);
  }

  public static byte[] v4(String src, String dst, int proto, byte[] l4, int ttl, boolean df, int id,
      int fragOffset, boolean mf, byte[] options) {
    int ihl = 20 + options.length;
    byte[] p = new byte[ihl + l4.length];
    ByteBuffer b = ByteBuffer.wrap(p);
    b.put(0, (byte) (0x40 | (ihl / 4))).putShort(2, (short) p.length).putShort(4, (short) id);
    b.putShort(6, (short) ((df ? 0x4000 : 0) | (mf ? 0x2000 : 0) | (fragOffset >> 3)));
    b.put(8, (byte) ttl).put(9, (byte) proto);
    b.put(12, Addresses.parseLiteral(src).getAddress()).put(16, Addresses.parseLiteral(dst).getAddress());
    System.arraycopy(options, 0, p, 20, options.length);
    System.arraycopy(l4, 0, p, ihl, l4.length);
    fill(p);
    return p;
  }

  public static byte[] v6(String src, String dst, int proto, byte[] l4) {
    return v6(src, dst, proto, l4, 64, new byte[0], -1);
  }

  /** {@code ext}: raw extension headers; {@code firstNext}: next-header of the fixed header when ext is non-empty. */
  public static byte[] v6(String src, String dst, int proto, byte[] l4, int hop, byte[] ext, int firstNext) {
    byte[] p = new byte[40 + ext.length + l4.length];
    ByteBuffer b = ByteBuffer.wrap(p);
    b.putInt(0, 0x60000000).putShort(4, (short) (ext.length + l4.length));
    b.put(6, (byte) (ext.length > 0 ? firstNext : proto)).put(7, (byte) hop);
    b.put(8, Addresses.parseLiteral(src).getAddress()).put(24, Addresses.parseLiteral(dst).getAddress());
    System.arraycopy(ext, 0, p, 40, ext.length);
    System.arraycopy(l4, 0, p, 40 + ext.length, l4.length);
    fill(p);
    return p;
  }

  /** Fills the IPv4 header checksum and (for unfragmented packets) the transport checksum. */
  public static void fill(byte[] p) {
    ByteBuffer b = ByteBuffer.wrap(p);
    Layout l = layout(p);
    if (!l.v6) {
      b.putShort(10, (short) 0);
      b.putShort(10, (short) checksum(sum(p, 0, l.ihl)));
    }
    if (l.l4 < 0 || l.fragmented) {
      return;
    }
    int at = l.checksumAt();
    if (at < 0 || at + 2 > p.length) {
      return;
    }
    b.putShort(at, (short) 0);
    int c = checksum(l4Sum(p, l));
    if (l.proto == 17 && c == 0) {
      c = 0xffff;
    }
    b.putShort(at, (short) c);
  }

  /** Asserts every checksum in the packet equals a full recomputation (±0 equivalent), including the embedded IPv4 header of an ICMP error. */
  public static void assertChecksums(byte[] p) {
    Layout l = layout(p);
    ByteBuffer b = ByteBuffer.wrap(p);
    if (!l.v6) {
      assertTrue(valid(sum(p, 0, l.ihl)), "IPv4 header checksum " + hex(p));
    }
    if (l.l4 >= 0 && !l.fragmented) {
      int at = l.checksumAt();
      int actual = b.getShort(at) & 0xffff;
      if (!(l.proto == 17 && !l.v6 && actual == 0)) {
        assertTrue(valid(l4Sum(p, l)), "transport checksum (proto " + l.proto + ") " + hex(p));
        int saved = actual;
        b.putShort(at, (short) 0);
        int expected = checksum(l4Sum(p, l));
        b.putShort(at, (short) saved);
        assertTrue(expected == actual || (expected | actual) == 0xffff && (expected & actual) == 0,
            "transport checksum " + Integer.toHexString(actual) + " != recomputed " + Integer.toHexString(expected));
      }
      if ((l.proto == 1 && (p[l.l4] == 3 || p[l.l4] == 11)) && !l.v6 && p.length >= l.l4 + 28) {
        int inner = l.l4 + 8;
        int innerIhl = (p[inner] & 0x0f) * 4;
        assertTrue(valid(sum(p, inner, innerIhl)), "embedded IPv4 header checksum");
      }
    }
  }

  public static String src(byte[] p) {
    return Addresses.format(addr(p, true));
  }

  public static String dst(byte[] p) {
    return Addresses.format(addr(p, false));
  }

  public static InetAddress addr(byte[] p, boolean src) {
    boolean v6 = (p[0] >> 4) == 6;
    int at = v6 ? (src ? 8 : 24) : (src ? 12 : 16);
    return Addresses.byAddress(Arrays.copyOfRange(p, at, at + (v6 ? 16 : 4)));
  }

  public static int ttl(byte[] p) {
    return ((p[0] >> 4) == 6 ? p[7] : p[8]) & 0xff;
  }

  /** Offset of the transport header of an unextended packet. */
  public static int l4(byte[] p) {
    return layout(p).l4;
  }

  public static int u16(byte[] p, int at) {
    return ((p[at] & 0xff) << 8) | (p[at + 1] & 0xff);
  }

  static final class Layout {
    boolean v6;
    int ihl;
    int l4 = -1;
    int proto;
    boolean fragmented;

    int checksumAt() {
      switch (proto) {
        case 6:
          return l4 + 16;
        case 17:
          return l4 + 6;
        case 1:
        case 58:
          return l4 + 2;
        default:
          return -1;
      }
    }
  }

  static Layout layout(byte[] p) {
    Layout l = new Layout();
    l.v6 = (p[0] >> 4) == 6;
    if (!l.v6) {
      l.ihl = (p[0] & 0x0f) * 4;
      l.proto = p[9] & 0xff;
      int ff = u16(p, 6);
      l.fragmented = (ff & 0x3fff) != 0; // offset or more-fragments
      l.l4 = l.ihl;
      return l;
    }
    int next = p[6] & 0xff;
    int off = 40;
    while (next == 0 || next == 43 || next == 60 || next == 44) {
      if (next == 44) {
        l.fragmented = (u16(p, off + 2) & 0xfff9) != 0;
        next = p[off] & 0xff;
        off += 8;
      } else {
        int len = ((p[off + 1] & 0xff) + 1) * 8;
        next = p[off] & 0xff;
        off += len;
      }
    }
    l.proto = next;
    l.l4 = off;
    return l;
  }

  /** Transport sum with the pseudo-header (none for ICMPv4). Length is the bytes present. */
  static long l4Sum(byte[] p, Layout l) {
    int len = p.length - l.l4;
    long s = sum(p, l.l4, len);
    if (l.proto == 1) {
      return s;
    }
    if (l.v6) {
      s += sum(p, 8, 32);
    } else {
      s += sum(p, 12, 8);
    }
    return s + len + l.proto;
  }

  static long sum(byte[] p, int off, int len) {
    long s = 0;
    for (int i = 0; i < len; i += 2) {
      int hi = p[off + i] & 0xff;
      int lo = i + 1 < len ? p[off + i + 1] & 0xff : 0;
      s += (hi << 8) | lo;
    }
    return s;
  }

  static int fold(long s) {
    while ((s >>> 16) != 0) {
      s = (s & 0xffff) + (s >>> 16);
    }
    return (int) s;
  }

  static int checksum(long s) {
    return ~fold(s) & 0xffff;
  }

  static boolean valid(long s) {
    return fold(s) == 0xffff;
  }

  static String hex(byte[] p) {
    StringBuilder sb = new StringBuilder();
    for (byte x : p) {
      sb.append(String.format("%02x", x));
    }
    return sb.toString();
  }

  public static boolean isV6(InetAddress a) {
    return a instanceof Inet6Address;
  }

  public static void assertAddresses(byte[] p, String src, String dst) {
    assertEquals(src, src(p), "source");
    assertEquals(dst, dst(p), "destination");
  }
}
