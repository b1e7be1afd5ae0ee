/**
 * Persistence of the root's authoritative state (records with their allocations, node subnets,
 * cluster pools, grants, quarantined releases, the version counter) behind
 * {@link io.semnet.control.store.RootStore}, with an fsync'd append-only JSON journal as the
 * embedded durable default.
 */
package io.semnet.control.store;
