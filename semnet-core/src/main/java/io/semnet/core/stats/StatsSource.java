package io.semnet.core.stats;

/**
 * A component that reports its statistics: the one shape every SemNet component (translator,
 * tunnel, resolver, name responder, TUN device, control transport) exposes its counters and gauges
 * in. A binding (semnet-node's {@code NodeMetrics} for Micrometer, or a test) visits the source on
 * its own thread whenever it wants fresh values.
 *
 * <p>Guarantees: {@link #reportTo} is thread-safe, never blocks the data path, reports each series
 * (stat and label values) at most once per call, and keeps label values within bounds documented by
 * the component. Counters never go down while the component lives.
 */
@FunctionalInterface
public interface StatsSource {

  /** Reports every current value to {@code visitor}, on the calling thread. */
  void reportTo(StatsVisitor visitor);

  /**
   * A source that reports what each of {@code sources} reports, in order; a series several of them
   * report (say two transports' message counts) is summed by the bindings.
   */
  static StatsSource of(StatsSource... sources) {
    StatsSource[] all = sources.clone();
    return v -> {
      for (StatsSource s : all) {
        s.reportTo(v);
      }
    };
  }
}
