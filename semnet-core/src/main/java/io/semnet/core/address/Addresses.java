package io.semnet.core.address;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Address helpers that never touch DNS: parse numeric literals only and format IPv6 in the
 * canonical compressed form (RFC 5952).
 */
public final class Addresses {
  private Addresses() {}

  /**
   * Parses an IPv4 or IPv6 literal. Unlike {@link InetAddress#getByName}, never performs a lookup.
   *
   * @throws IllegalArgumentException if the text is not an address literal
   */
  public static InetAddress parseLiteral(String text) {
    if (text == null || text.isEmpty()) {
      throw new IllegalArgumentException("address is empty");
    }
    boolean v6 = text.indexOf(':') >= 0;
    if (!v6) {
      String[] parts = text.split("\\.", -1);
      if (parts.length != 4) {
        throw new IllegalArgumentException("'" + text + "' is not an IPv4 or IPv6 literal");
      }
      byte[] b = new byte[4];
      for (int i = 0; i < 4; i++) {
        if (parts[i].isEmpty() || parts[i].length() > 3 || !parts[i].chars().allMatch(Character::isDigit)) {
          throw new IllegalArgumentException("'" + text + "' is not an IPv4 literal");
        }
        int v = Integer.parseInt(parts[i]);
        if (v > 255) {
          throw new IllegalArgumentException("'" + text + "' is not an IPv4 literal");
        }
        b[i] = (byte) v;
      }
      return byAddress(b);
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      boolean ok = Character.digit(c, 16) >= 0 || c == ':' || c == '.';
      if (!ok) {
        throw new IllegalArgumentException("'" + text + "' is not an IPv6 literal");
      }
    }
    try {
      // With only hex digits, colons and dots InetAddress parses the literal without a lookup.
      InetAddress a = InetAddress.getByName(text);
      return a;
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("'" + text + "' is not an IPv6 literal", e);
    }
  }

  /** The address for raw bytes (4 or 16). */
  public static InetAddress byAddress(byte[] bytes) {
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("address must have 4 or 16 bytes, got " + bytes.length, e);
    }
  }

  /** Formats without a host name; IPv6 compressed per RFC 5952. */
  public static String format(InetAddress a) {
    if (a instanceof Inet4Address) {
      return a.getHostAddress();
    }
    byte[] b = a.getAddress();
    int[] w = new int[8];
    for (int i = 0; i < 8; i++) {
      w[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
    }
    int bestStart = -1;
    int bestLen = 1;
    for (int i = 0; i < 8; ) {
      if (w[i] != 0) {
        i++;
        continue;
      }
      int j = i;
      while (j < 8 && w[j] == 0) {
        j++;
      }
      if (j - i > bestLen) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j;
    }
    StringBuilder sb = new StringBuilder(39);
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        sb.append("::");
        i += bestLen - 1;
        continue;
      }
      if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
        sb.append(':');
      }
      sb.append(Integer.toHexString(w[i]));
    }
    return sb.toString();
  }

  /** True for IPv4, false for IPv6. */
  public static boolean isIpv4(InetAddress a) {
    return a instanceof Inet4Address;
  }

  /** True for IPv6. */
  public static boolean isIpv6(InetAddress a) {
    return a instanceof Inet6Address;
  }
}
