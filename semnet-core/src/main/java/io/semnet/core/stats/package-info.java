/**
 * One shape for statistics: a component is a {@link io.semnet.core.stats.StatsSource} that reports
 * named counters and gauges ({@link io.semnet.core.stats.Stat}) with bounded labels to a
 * {@link io.semnet.core.stats.StatsVisitor}. Bindings to metrics libraries live outside the core.
 */
package io.semnet.core.stats;
