package io.semnet.tunnel.internal.noise;

import java.time.Instant;

/**
 * A TAI64N-like timestamp as WireGuard uses it: 8 bytes {@code 2^62 + Unix seconds} and 4 bytes
 * nanoseconds, big-endian (leap seconds ignored, so it is monotonic exactly when the clock is).
 * Immutable; ordered by time, which is also the unsigned byte order of the encoding.
 */
public record Tai64n(long seconds, int nanos) implements Comparable<Tai64n> {
  /** Encoded length. */
  public static final int BYTES = 12;
  private static final long LABEL = 1L << 62;

  /** Checks the ranges: seconds in [0, 2^62), nanos in [0, 10^9). */
  public Tai64n {
    if (seconds < 0 || seconds >= LABEL || nanos < 0 || nanos >= 1_000_000_000) {
      throw new IllegalArgumentException("timestamp out of range: " + seconds + "." + nanos);
    }
  }

  /** The timestamp of an instant at or after the Unix epoch. */
  public static Tai64n of(Instant t) {
    return new Tai64n(t.getEpochSecond(), t.getNano());
  }

  /** The next representable timestamp (one nanosecond later). */
  public Tai64n plusNano() {
    return nanos == 999_999_999 ? new Tai64n(seconds + 1, 0) : new Tai64n(seconds, nanos + 1);
  }

  /** The 12-byte encoding. */
  public byte[] encode() {
    byte[] b = new byte[BYTES];
    long label = LABEL + seconds;
    for (int i = 0; i < 8; i++) {
      b[i] = (byte) (label >>> (56 - 8 * i));
    }
    for (int i = 0; i < 4; i++) {
      b[8 + i] = (byte) (nanos >>> (24 - 8 * i));
    }
    return b;
  }

  /** Decodes 12 bytes; null if the length, label or nanoseconds are out of range (never throws). */
  public static Tai64n decode(byte[] b) {
    if (b == null || b.length != BYTES) {
      return null;
    }
    long label = 0;
    for (int i = 0; i < 8; i++) {
      label = label << 8 | (b[i] & 0xff);
    }
    int nanos = 0;
    for (int i = 0; i < 4; i++) {
      nanos = nanos << 8 | (b[8 + i] & 0xff);
    }
    long seconds = label - LABEL;
    if (label < LABEL || nanos < 0 || nanos >= 1_000_000_000) {
      return null;
    }
    return new Tai64n(seconds, nanos);
  }

  @Override
  public int compareTo(Tai64n o) {
    int c = Long.compare(seconds, o.seconds);
    return c != 0 ? c : Integer.compare(nanos, o.nanos);
  }
}
