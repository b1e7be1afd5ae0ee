package io.semnet.control;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.isolation.Grant;
import io.semnet.core.isolation.IsolationRules;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceMetadata;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.resolver.NodeRegistration;
import io.semnet.resolver.enrol.JoinToken;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What an orchestrator calls on the root: register nodes (they get subnets and a certificate of
 * their tunnel key), issue join tokens for nodes that enrol themselves, deploy services from
 * descriptors, scale, report where an instance runs, migrate it, remove services, and grant paths
 * between namespaces. The root is the one allocation authority (semnet-core's allocators) and the
 * one clock of record versions, so allocations never collide and updates are totally ordered.
 *
 * <p>Two implementations with the same semantics: the root's own object
 * ({@code ServiceManager.orchestration()}, in the root's JVM) and {@link RemoteOrchestration}, a
 * client that sends each call, signed with the orchestrator's key, to an
 * {@link OrchestrationService} bound at the root.
 *
 * <p>Every operation is all-or-nothing: an invalid or conflicting request throws
 * {@link OrchestrationException} with the reason and changes nothing. A successful one is written to
 * the root store before it is published, then signed and pushed to every interested manager.
 * Implementations are thread-safe (operations are serialised at the root). The remote client may
 * also throw {@code io.semnet.resolver.transport.TransportException} when the root cannot be
 * reached; retrying the same call is then safe (see {@link RemoteOrchestration}).
 */
public interface Orchestration {
  /** Cluster id used by {@link #registerNode(WorkerEndpoint, GeoPoint)} and {@link #issueJoinToken(Duration, boolean)}. */
  String DEFAULT_CLUSTER = "default";

  /** How long a node certificate is valid unless the root is configured otherwise (24 h). */
  Duration DEFAULT_CERTIFICATE_VALIDITY = Duration.ofHours(24);

  // ---------------------------------------------------------------- nodes

  /** {@link #registerNode(String, WorkerEndpoint, GeoPoint)} in cluster {@link #DEFAULT_CLUSTER}. */
  default NodeRegistration registerNode(WorkerEndpoint endpoint, GeoPoint location) {
    return registerNode(DEFAULT_CLUSTER, endpoint, location);
  }

  /**
   * Registers a worker node of a cluster: gives it a subnet per address family (from the cluster's
   * pool, a new pool being taken from the platform range when needed) and certifies its tunnel key.
   * Registering the same node again with the same endpoint and cluster returns the existing
   * registration.
   *
   * @param location where the node is (for k-pruning and instance metadata), or null
   */
  NodeRegistration registerNode(String clusterId, WorkerEndpoint endpoint, GeoPoint location);

  /**
   * Deregisters a node; its subnets go into quarantine.
   *
   * @throws OrchestrationException if the node is unknown or instances are still placed on it
   */
  void deregisterNode(String nodeId);

  /** The registration of a node, or null. */
  NodeRegistration node(String nodeId);

  /** Every registered node. */
  List<NodeRegistration> nodes();

  /** {@link #issueJoinToken(String, Duration, boolean)} for cluster {@link #DEFAULT_CLUSTER}. */
  default JoinToken issueJoinToken(Duration ttl, boolean oneTime) {
    return issueJoinToken(DEFAULT_CLUSTER, ttl, oneTime);
  }

  /**
   * Issues a join token with which a node enrols itself into cluster {@code clusterId} over the
   * control protocol ({@code io.semnet.resolver.enrol.Enrolment}). Give the node
   * {@link JoinToken#token()} and {@link JoinToken#rootKeyHash()} (out of band, like
   * {@code kubeadm join}); the secret never travels on the control plane again. Tokens live in the
   * root's memory: a root restart invalidates unused tokens (fails closed).
   *
   * @param ttl how long the token may be used (positive, at most 7 days)
   * @param oneTime whether the first successful enrolment consumes it
   */
  JoinToken issueJoinToken(String clusterId, Duration ttl, boolean oneTime);

  // ---------------------------------------------------------------- services

  /** The policies every service gets a ServiceIP for. */
  Set<String> platformPolicies();

  /** The current record of a service, or null. */
  ServiceRecord record(ServiceId service);

  /**
   * Deploys a service: allocates one ServiceIP per platform policy and family (honouring pinned
   * ones) and the InstanceIPs of its initial instances (honouring the descriptor's rule). Instances
   * are unplaced until {@link #placeInstance} reports where they run.
   */
  ServiceRecord deploy(ServiceDescriptor descriptor);

  /**
   * Scales a service to {@code instances}: new ordinals get InstanceIPs (unplaced until reported);
   * the highest ordinals are removed when scaling down (their addresses go into quarantine).
   */
  ServiceRecord scale(ServiceId service, int instances);

  /** {@link #placeInstance(ServiceId, int, Locator, InstanceMetadata)} with metadata from the node (location) and capacity 1. */
  default ServiceRecord placeInstance(ServiceId service, int ordinal, Locator locator) {
    return placeInstance(service, ordinal, locator, null);
  }

  /**
   * Reports that an instance runs at {@code locator} (namespace IP(s) inside its node's subnet and
   * the node's worker endpoint, which must match the node's registration, tunnel key included). The
   * locator's version is replaced by a root-stamped one.
   *
   * @param metadata what policies need, or null for the node's location and capacity 1
   */
  ServiceRecord placeInstance(ServiceId service, int ordinal, Locator locator, InstanceMetadata metadata);

  /**
   * Places several unplaced instances of one service at once, as one new version (one push instead
   * of one per instance, e.g. right after a deployment). All-or-nothing like {@link #placeInstance}.
   */
  ServiceRecord placeInstances(ServiceId service, Map<Integer, Locator> placements);

  /**
   * Moves a placed instance to a new place: the {@code restored} phase of a migration, called once
   * the instance runs at the destination. Its InstanceIP stays; every interested node is pushed the
   * new locator (with a higher version than the old one).
   *
   * <p>A stateful restore (checkpoint/restore with its sockets) keeps the instance's namespace IP,
   * which lies in the source node's subnet: the new locator may carry the instance's current
   * namespace IP(s) on another node, which then routes it as a host route (/32, /128) on its
   * bridge. That address stays the instance's wherever it moves next, and is not given to another
   * instance on the node whose subnet holds it while the instance lives elsewhere. A cold move
   * takes a namespace IP of the destination's subnet. (The {@code freeze} phase needs no call here:
   * see the source node's {@code SemnetTranslator.freeze}.)
   */
  ServiceRecord migrate(ServiceId service, int ordinal, Locator newLocator);

  /** Changes an instance's free capacity (what {@code hc}-style policies use). */
  ServiceRecord updateCapacity(ServiceId service, int ordinal, double capacity);

  /** Reports that an instance stopped running (failed or evicted): it stays in the record, unplaced. */
  ServiceRecord unplaceInstance(ServiceId service, int ordinal);

  /** Removes a service: interested nodes are told, its addresses go into quarantine. */
  void remove(ServiceId service);

  // ---------------------------------------------------------------- isolation

  /** Opens a path between namespaces (one direction); pushed, signed, to every manager and worker. */
  IsolationRules grant(Grant grant);

  /** Closes a path opened by {@link #grant}; nodes that can no longer see a service are told to forget it. */
  IsolationRules revoke(Grant grant);

  /** The current isolation rules. */
  IsolationRules isolationRules();
}
