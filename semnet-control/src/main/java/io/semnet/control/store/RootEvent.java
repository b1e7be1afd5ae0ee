package io.semnet.control.store;

import io.semnet.core.address.IpPrefix;
import io.semnet.core.isolation.Grant;
import io.semnet.core.plan.InstanceAddressRule;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RevokedCertificate;
import io.semnet.resolver.NodeRegistration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One change of the root's state, as a store records it. The state after a sequence of events is
 * their fold ({@link RootState#apply}); later events for the same key replace earlier ones.
 */
public sealed interface RootEvent {
  /** A service's current record (with every address it holds) and its InstanceIP rule. */
  record ServicePut(ServiceRecord record, InstanceAddressRule rule) implements RootEvent {
    public ServicePut {
      Objects.requireNonNull(record, "record");
      Objects.requireNonNull(rule, "rule");
    }
  }

  /** A service was removed at {@code version}. */
  record ServiceRemoved(ServiceId service, long version) implements RootEvent {
    public ServiceRemoved {
      Objects.requireNonNull(service, "service");
    }
  }

  /** A node registration (with its subnets). */
  record NodePut(NodeRegistration node) implements RootEvent {
    public NodePut {
      Objects.requireNonNull(node, "node");
    }
  }

  /** A node was deregistered. */
  record NodeRemoved(String nodeId) implements RootEvent {
    public NodeRemoved {
      Objects.requireNonNull(nodeId, "nodeId");
    }
  }

  /** A pool of node subnets was given to a cluster. */
  record PoolPut(String clusterId, IpPrefix pool) implements RootEvent {
    public PoolPut {
      Objects.requireNonNull(clusterId, "clusterId");
      Objects.requireNonNull(pool, "pool");
    }
  }

  /** A version of the isolation grants. */
  record RulesPut(long version, List<Grant> grants) implements RootEvent {
    public RulesPut {
      grants = List.copyOf(grants);
    }
  }

  /** A version of the certificate revocation list (the whole list). */
  record RevocationsPut(long version, List<RevokedCertificate> revoked) implements RootEvent {
    public RevocationsPut {
      revoked = List.copyOf(revoked);
    }
  }

  /** Versions up to {@code version} were stamped (kept by compaction when the newest belonged to removed services). */
  record VersionFloor(long version) implements RootEvent {}

  /**
   * Liveness events for orchestrators were numbered up to {@code sequence}: a root that takes over
   * (or restarts) continues the numbering after it, so an orchestrator never sees a number twice.
   */
  record EventSequence(long sequence) implements RootEvent {}

  /** An address or subnet was released into quarantine until {@code until}. */
  record Released(IpPrefix prefix, Instant until) implements RootEvent {
    public Released {
      Objects.requireNonNull(prefix, "prefix");
      Objects.requireNonNull(until, "until");
    }
  }
}
