/**
 * The routing-policy SPI: {@link io.semnet.core.policy.RoutingPolicy} and its
 * {@link io.semnet.core.policy.RoutingPolicyProvider}, discovered through
 * {@link io.semnet.core.policy.RoutingPolicyRegistry}, and the node-local measurements policies
 * read ({@link io.semnet.core.policy.NodeView}). Built-in policies live in
 * {@code io.semnet.core.policy.internal}.
 */
package io.semnet.core.policy;
