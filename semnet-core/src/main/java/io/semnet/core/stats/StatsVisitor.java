package io.semnet.core.stats;

/**
 * Receives the values a {@link StatsSource} reports. The overload used must match the stat's number
 * of labels (label values in the order of {@link Stat#labels()}); a counter is reported with a
 * {@code long}, a gauge with a {@code double}. A source may report the same stat many times with
 * different label values, never twice with the same ones in one visit. Implementations need not be
 * thread-safe: one visit runs on one thread.
 */
public interface StatsVisitor {

  /** A value of a stat without labels. */
  void value(Stat stat, double value);

  /** A value of a stat with one label. */
  void value(Stat stat, String label, double value);

  /** A value of a stat with two labels. */
  void value(Stat stat, String label1, String label2, double value);
}
