/**
 * A SemNet worker node in one call: {@link io.semnet.node.WorkerNodeBuilder} derives the node's
 * Linux set-up from its {@link io.semnet.resolver.NodeRegistration} and address plan, and
 * {@link io.semnet.node.WorkerNode} runs it, attaches instances ({@link io.semnet.node.InstanceTarget})
 * and carries the phases of a stateful migration. See the module README for a complete worker.
 */
package io.semnet.node;
