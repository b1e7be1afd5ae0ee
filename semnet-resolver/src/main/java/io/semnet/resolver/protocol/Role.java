package io.semnet.resolver.protocol;

/** What a client of a service manager is: a worker node or a cluster service manager. */
public enum Role {
  /** A worker node; its answers are k-pruned and filtered by the isolation rules of its instances. */
  WORKER,
  /** A cluster service manager asking its upstream; gets whole records (it prunes for its workers). */
  CLUSTER
}
