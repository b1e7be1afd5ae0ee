/**
 * Migration benchmarks: how fast and at what message cost a migrated instance's new locator
 * reaches every interested node ({@link io.semnet.bench.migration.MigrationConvergenceBenchmark}),
 * in-process and over a real mosquitto.
 */
package io.semnet.bench.migration;
