/**
 * The node's loopback administration server: health, metrics and inspection endpoints served over
 * HTTP by {@link io.semnet.node.admin.AdminServer}, each an {@link io.semnet.node.admin.AdminEndpoint}.
 */
package io.semnet.node.admin;
