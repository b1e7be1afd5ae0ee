package io.semnet.tunnel.internal;

/**
 * Sliding anti-replay window over 64-bit counters (RFC 6479 style bitmap of {@value #SIZE} bits):
 * a counter is accepted once, and only if it is newer than {@code highest - SIZE}. Check before
 * authenticating (cheap rejection), {@link #commit} only after. Not thread-safe: used by the
 * receiving event loop only.
 */
public final class ReplayWindow {
  public static final int SIZE = 2048;
  private static final int WORDS = SIZE / 64;

  private final long[] bits = new long[WORDS];
  private long highest = -1;

  /** True if {@code counter} has not been seen and is not too old. */
  public boolean check(long counter) {
    if (counter < 0) {
      return false;
    }
    if (counter > highest) {
      return true;
    }
    if (highest - counter >= SIZE) {
      return false;
    }
    int bit = (int) (counter & (SIZE - 1));
    return (bits[bit >>> 6] & (1L << (bit & 63))) == 0;
  }

  /** Marks {@code counter} seen (call only after {@link #check} and successful authentication). */
  public void commit(long counter) {
    if (counter > highest) {
      long shift = highest < 0 ? SIZE : counter - highest;
      if (shift >= SIZE) {
        java.util.Arrays.fill(bits, 0L);
      } else {
        // Clear the bits of the counters that slid into the window.
        for (long c = highest + 1; c < counter; c++) {
          int b = (int) (c & (SIZE - 1));
          bits[b >>> 6] &= ~(1L << (b & 63));
        }
      }
      highest = counter;
    }
    int bit = (int) (counter & (SIZE - 1));
    bits[bit >>> 6] |= 1L << (bit & 63);
  }

  public long highest() {
    return highest;
  }
}
