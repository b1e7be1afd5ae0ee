/**
 * Test fixtures for the control plane (not a library: no main library jar depends on it): the
 * resolver scale scenario and the migration KPI classes the samples and benchmarks report with.
 */
module io.semnet.testkit {
  requires transitive io.semnet.control;

  exports io.semnet.testkit;
}
