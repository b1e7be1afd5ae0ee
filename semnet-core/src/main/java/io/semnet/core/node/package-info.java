/**
 * Node assembly: the interfaces the layers meet at ({@link io.semnet.core.node.PacketIo},
 * {@link io.semnet.core.node.PacketTranslator}, {@link io.semnet.core.node.Tunnel},
 * {@link io.semnet.core.node.RouteResolver}, {@link io.semnet.core.node.NameResponder}) and
 * {@link io.semnet.core.node.SemnetNode}, which a host application builds from the implementations
 * it chooses and starts and stops as one unit.
 */
package io.semnet.core.node;
