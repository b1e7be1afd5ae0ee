/**
 * The node's name responder for semantic names: mDNS (RFC 6762) and plain unicast DNS on the node
 * bridge. Entry point: {@link io.semnet.mdns.SemanticNameResponder#builder()}.
 */
package io.semnet.mdns;
