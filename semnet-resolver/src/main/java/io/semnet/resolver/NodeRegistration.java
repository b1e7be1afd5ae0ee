package io.semnet.resolver;

import io.semnet.core.address.IpPrefix;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.trust.NodeCertificate;
import java.util.Objects;

/**
 * What the root knows about a registered worker node: its cluster, worker endpoint (incl. tunnel
 * public key), location, its subnet(s) for instance addresses, and the root's certificate of its
 * tunnel key (which the node presents to peers). Immutable.
 *
 * @param subnetV4 the node's IPv4 instance subnet, or null if the plan has no IPv4
 * @param subnetV6 the node's IPv6 instance subnet, or null if the plan has no IPv6
 * @param location where the node is, or null if unknown
 * @param certificate the root's certificate of the node's tunnel key, or null if the node has no key
 *     (plaintext deployments)
 */
public record NodeRegistration(String nodeId, String clusterId, WorkerEndpoint endpoint, GeoPoint location,
    IpPrefix subnetV4, IpPrefix subnetV6, NodeCertificate certificate) {
  public NodeRegistration {
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(clusterId, "clusterId");
    Objects.requireNonNull(endpoint, "endpoint");
    if (!endpoint.nodeId().equals(nodeId)) {
      throw new IllegalArgumentException("endpoint of " + endpoint.nodeId() + " registered as " + nodeId);
    }
  }
}
