package io.semnet.core.node;

/** Answers DNS/mDNS queries for semantic names on the node bridge, using the node's {@link RouteResolver}. */
public interface NameResponder extends NodeComponent {}
