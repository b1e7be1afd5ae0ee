/**
 * The worker side of SemNet's control plane: the lazy {@link io.semnet.resolver.WorkerResolver}
 * (fast resolution, interest registration and renewal, the route cache) and
 * {@link io.semnet.resolver.RecordVerifier}. The cluster and root service managers that answer it
 * are in module {@code io.semnet.control}. See the module README for the protocol and the threat
 * model.
 */
package io.semnet.resolver;
