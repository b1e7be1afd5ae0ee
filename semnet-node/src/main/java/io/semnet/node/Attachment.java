package io.semnet.node;

import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import java.net.InetAddress;
import java.util.Objects;

/**
 * An instance wired to a node: where it runs, the addresses it has in its namespace, the host end
 * of its veth and, once published, its record. Immutable; the node's methods return a new
 * attachment for each phase. Hand it back to {@link WorkerNode#detach} or {@link WorkerNode#freeze}.
 *
 * @param target the instance's network namespace
 * @param namespace the name the node uses for that namespace ({@code target.netns()}, or a name it
 *     gave the PID's namespace, removed on detach)
 * @param ipv4 the instance's IPv4 namespace address, or null if the node has no IPv4 subnet
 * @param ipv6 the instance's IPv6 namespace address, or null if the node has no IPv6 subnet
 * @param hostVeth the host end of the veth pair on the node's bridge
 * @param keptAddresses true if the addresses came from another node (a stateful restore): the node
 *     routes them to its bridge as host routes
 * @param locator where the instance runs (namespace addresses and this node's endpoint)
 * @param record the instance's record: as published, or (after {@link WorkerNode#restore}, before
 *     {@link WorkerNode#publish}) the record with the new locator that only this node knows yet
 */
public record Attachment(InstanceTarget target, String namespace, InetAddress ipv4, InetAddress ipv6, String hostVeth,
    boolean keptAddresses, Locator locator, InstanceRecord record) {
  public Attachment {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(hostVeth, "hostVeth");
    Objects.requireNonNull(locator, "locator");
  }

  Attachment withRecord(InstanceRecord r) {
    return new Attachment(target, namespace, ipv4, ipv6, hostVeth, keptAddresses, locator, r);
  }
}
