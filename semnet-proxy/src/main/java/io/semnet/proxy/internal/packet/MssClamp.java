package io.semnet.proxy.internal.packet;

import java.nio.ByteBuffer;

/**
 * Lowers the MSS option of a TCP SYN so that segments fit the tunnel, adjusting the TCP checksum
 * incrementally. Malformed option lists are left alone. Allocation-free.
 */
public final class MssClamp {
  private MssClamp() {}

  /**
   * Clamps the MSS option of the TCP header at {@code l4} in {@code b} to {@code max}.
   *
   * @return true if the option was larger than {@code max} (and {@code max > 0}) and was lowered
   */
  public static boolean clamp(ByteBuffer b, int l4, int max) {
    int end = l4 + (((b.get(l4 + 12) & 0xff) >>> 4) << 2);
    int i = l4 + 20;
    while (i < end) {
      int kind = b.get(i) & 0xff;
      if (kind == 0) {
        return false;
      }
      if (kind == 1) {
        i++;
        continue;
      }
      if (i + 1 >= end) {
        return false;
      }
      int len = b.get(i + 1) & 0xff;
      if (len < 2 || i + len > end) {
        return false;
      }
      if (kind == 2 && len == 4) {
        int mss = b.getShort(i + 2) & 0xffff;
        if (mss > max && max > 0) {
          int at = i + 2;
          int delta;
          if (((at - l4) & 1) == 0) {
            b.putShort(at, (short) max);
            delta = Checksums.wordDelta(mss, max);
          } else {
            // The value straddles two checksum words; take the difference over both.
            int o1 = b.getShort(at - 1) & 0xffff;
            int o2 = b.getShort(at + 1) & 0xffff;
            b.putShort(at, (short) max);
            delta = Checksums.add(Checksums.wordDelta(o1, b.getShort(at - 1) & 0xffff),
                Checksums.wordDelta(o2, b.getShort(at + 1) & 0xffff));
          }
          Checksums.adjustAt(b, l4 + 16, delta);
          return true;
        }
        return false;
      }
      i += len;
    }
    return false;
  }
}
