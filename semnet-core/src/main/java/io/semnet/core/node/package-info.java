/**
 * Node assembly: the interfaces the layers meet at ({@link io.semnet.core.node.PacketIo},
 * {@link io.semnet.core.node.PacketTranslator}, {@link io.semnet.core.node.Tunnel},
 * {@link io.semnet.core.node.RouteResolver}, {@link io.semnet.core.node.NameResponder}) and
 * {@link io.semnet.core.node.SemnetNode}, the lifecycle container that starts and stops them as one
 * unit. A complete worker is assembled by module {@code semnet-node}.
 */
package io.semnet.core.node;
