/**
 * SemNet's service managers: the root and cluster {@link io.semnet.control.ServiceManager}s, the
 * root's {@link io.semnet.control.Orchestration} API (the only allocator of addresses and the only
 * stamper of record versions), the embeddable {@link io.semnet.control.InProcessControlPlane} and
 * the root store ({@code io.semnet.control.store}).
 *
 * <p>Every exported package is public API; the managers' interest and pruning logic lives in
 * {@code io.semnet.control.internal}. Depends on {@code io.semnet.resolver} for the protocol and the
 * transport SPI, never the reverse.
 */
module io.semnet.control {
  requires transitive io.semnet.resolver;
  requires com.fasterxml.jackson.databind;
  requires org.slf4j;
  requires java.sql;
  requires org.postgresql.jdbc;

  exports io.semnet.control;
  exports io.semnet.control.store;
}
