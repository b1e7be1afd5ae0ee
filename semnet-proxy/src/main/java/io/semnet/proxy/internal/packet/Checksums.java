package io.semnet.proxy.internal.packet;

import io.netty.util.internal.PlatformDependent;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Internet checksum arithmetic (RFC 1071) and incremental update (RFC 1624, equation 3) over
 * buffers addressed by absolute index, so callers never move a buffer's position. Allocation-free.
 */
public final class Checksums {
  /** Shorter regions (headers) are summed through the buffer API; the set-up would not pay. */
  private static final int RAW_MIN = 64;
  private static final boolean RAW_LOADS =
      PlatformDependent.hasUnsafe() && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

  private Checksums() {}

  /** Adds the 16-bit big-endian words of {@code [off, off+len)} to {@code sum}; an odd last byte is padded with zero. */
  public static long sum(ByteBuffer b, int off, int len, long sum) {
    int i = off;
    int end = off + len;
    if (len >= RAW_MIN && RAW_LOADS && b.isDirect()) {
      // Whole payloads: native little-endian loads without per-load bounds checks. A one's
      // complement sum taken in the other byte order is the byte-swapped sum (RFC 1071, 2.B).
      Objects.checkFromIndexSize(off, len, b.capacity());
      long address = PlatformDependent.directBufferAddress(b) + off;
      int words = len >>> 3;
      long raw = 0;
      for (int k = 0; k < words; k++) {
        long v = PlatformDependent.getLong(address + ((long) k << 3));
        raw += (v >>> 32) + (v & 0xffffffffL);
      }
      int folded = fold(raw);
      sum += ((folded & 0xff) << 8) | (folded >>> 8);
      i += words << 3;
    }
    // Eight bytes per load, added as two 32-bit halves; a long holds the carries of gigabytes.
    while (i + 8 <= end) {
      long v = b.getLong(i);
      sum += (v >>> 32) + (v & 0xffffffffL);
      i += 8;
    }
    while (i + 4 <= end) {
      sum += b.getInt(i) & 0xffffffffL;
      i += 4;
    }
    if (i + 2 <= end) {
      sum += b.getShort(i) & 0xffff;
      i += 2;
    }
    if (i < end) {
      sum += (b.get(i) & 0xff) << 8;
    }
    return sum;
  }

  /** Folds a wide sum to 16 bits with end-around carry. */
  public static int fold(long sum) {
    while ((sum >>> 16) != 0) {
      sum = (sum & 0xffff) + (sum >>> 16);
    }
    return (int) sum;
  }

  /** The checksum field value for a sum over the covered data (with the checksum field taken as zero). */
  public static int finish(long sum) {
    return ~fold(sum) & 0xffff;
  }

  /** The one's-complement difference contributed by replacing 16-bit word {@code oldWord} with {@code newWord}. */
  public static int wordDelta(int oldWord, int newWord) {
    return fold((~oldWord & 0xffff) + (newWord & 0xffff));
  }

  /** The difference for replacing a 32-bit value. */
  public static int intDelta(int oldValue, int newValue) {
    return fold((long) wordDelta(oldValue >>> 16, newValue >>> 16) + wordDelta(oldValue & 0xffff, newValue & 0xffff));
  }

  /** The difference for replacing a 64-bit value. */
  public static int longDelta(long oldValue, long newValue) {
    return fold((long) intDelta((int) (oldValue >>> 32), (int) (newValue >>> 32))
        + intDelta((int) oldValue, (int) newValue));
  }

  /** Combines two differences. */
  public static int add(int deltaA, int deltaB) {
    return fold((long) deltaA + deltaB);
  }

  /** RFC 1624 eqn. 3: the new checksum after changes summarised by {@code delta}: ~(~HC + delta). */
  public static int adjust(int checksum, int delta) {
    return ~fold((long) (~checksum & 0xffff) + delta) & 0xffff;
  }

  /** Adjusts the 16-bit checksum stored at absolute index {@code at}. */
  public static void adjustAt(ByteBuffer b, int at, int delta) {
    b.putShort(at, (short) adjust(b.getShort(at) & 0xffff, delta));
  }

  /**
   * Adjusts a UDP checksum at {@code at}: a zero (absent, IPv4 only) checksum stays zero, and a
   * computed zero is sent as 0xffff (RFC 768).
   */
  public static void adjustUdpAt(ByteBuffer b, int at, int delta) {
    int c = b.getShort(at) & 0xffff;
    if (c == 0) {
      return;
    }
    int n = adjust(c, delta);
    b.putShort(at, (short) (n == 0 ? 0xffff : n));
  }

  /** True if data whose checksum field is included sums to all ones (a valid checksum). */
  public static boolean verifies(long sumIncludingChecksum) {
    return fold(sumIncludingChecksum) == 0xffff;
  }
}
