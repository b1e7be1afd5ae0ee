/**
 * The control protocol spoken between workers, cluster managers and the root: message types, query
 * keys and the root-signed forms of records, removals and isolation rules. The same messages are
 * used at both levels (worker to cluster, cluster to root), so a cluster manager is a server to its
 * workers and a client of the root. See the module README for the wire schema and its versioning.
 */
package io.semnet.resolver.protocol;
