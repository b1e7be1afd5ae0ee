/**
 * SemNet's node assembly: {@link io.semnet.node.WorkerNode}, built by
 * {@link io.semnet.node.WorkerNodeBuilder} from a node's registration, address plan, keys and
 * control transport, turns them into a running worker (bridge, TUN, routes, sysctls, translator,
 * tunnel, worker resolver, DNS/mDNS responder) and attaches instances by network namespace name or
 * container PID.
 *
 * <p>Exports {@code io.semnet.node} and {@code io.semnet.node.admin} (the loopback health,
 * metrics and inspection server); the network plumbing derived from the registration lives
 * in {@code io.semnet.node.internal}. The layer modules are required transitively because their
 * types (translator, tunnel, resolver, responder, registration) appear in this API.
 */
module io.semnet.node {
  requires transitive io.semnet.core;
  requires transitive io.semnet.proxy;
  requires transitive io.semnet.tunnel;
  requires transitive io.semnet.resolver;
  requires transitive io.semnet.mdns;
  requires org.slf4j;
  requires jdk.httpserver;

  exports io.semnet.node;
  exports io.semnet.node.admin;
}
