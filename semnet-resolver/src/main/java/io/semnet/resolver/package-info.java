/**
 * The control plane of SemNet: the worker-side lazy {@link io.semnet.resolver.WorkerResolver}, the
 * {@link io.semnet.control.ServiceManager} (cluster or root role) and the root's
 * {@link io.semnet.control.Orchestration} API an orchestrator calls. See the module README for the
 * protocol, the threat model and the persistence choice.
 */
package io.semnet.resolver;
