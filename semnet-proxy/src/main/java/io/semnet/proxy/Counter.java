package io.semnet.proxy;

/**
 * What {@link SemnetTranslator} counts. Names starting with {@code DROP_} are reasons a packet was
 * discarded; the others count work done and messages sent.
 */
public enum Counter {
  /** Packets from local instances translated and sent on. */
  TRANSLATED_OUT,
  /** Packets from peers (or looped back) translated and delivered locally. */
  TRANSLATED_IN,
  /** Packets written to the TUN device. */
  DELIVERED_LOCAL,
  /** Packets handed to the tunnel. */
  SENT_TUNNEL,
  /** Flows created for a local client (a policy chose an instance). */
  FLOWS_CREATED,
  /** Flows learned from the first packet of an incoming flow for a local instance. */
  FLOWS_LEARNED,
  FLOWS_EXPIRED,
  /** Flows evicted because the table was full. */
  FLOWS_EVICTED,
  /** Older flows replaced by a new flow with the same key in either direction (newest wins). */
  FLOWS_SUPERSEDED,
  /** Flows re-pointed after a route-not-found notice or a pushed record change. */
  FLOWS_REPOINTED,
  /**
   * Failures the passive health checks saw for an instance chosen by this node: a SYN without
   * SYN-ACK within the bound, an ICMP unreachable about a flow to it, a route-not-found although
   * its record still places it there, a UDP flow that had replies gone silent.
   */
  HEALTH_FAILURES,
  /** Instances ejected from new-flow selection after failures (each ejection once). */
  INSTANCES_EJECTED,
  /** Ejections not made because the service already had its capped share of instances ejected. */
  EJECTIONS_CAPPED,
  /** Ejected instances back in new-flow selection after their back-off. */
  INSTANCES_RETURNED,
  /**
   * Learned flows whose way back moved to another peer because the flow's packets now arrive from
   * it (a sender re-pointed to this node after a migration, or the old node forwarding for it).
   */
  FLOWS_ROAMED,
  /** Packets for a frozen (migrating) local instance held in its FIFO. */
  MIGRATION_BUFFERED,
  /** Held packets sent on, in order, to the migrated instance's new place. */
  MIGRATION_REPLAYED,
  /** Packets for a migrated instance that reached this node after its release and were forwarded. */
  MIGRATION_FORWARDED_LATE,
  /** Replies of a migrated instance relayed to the sender of a flow that still reached it through this node. */
  MIGRATION_RELAYED,
  /** Replay-end markers sent by this node, the previous place of a migrated instance, behind its replay. */
  MIGRATION_REPLAY_END_SENT,
  /** Replay-end markers received by this node, the new place of a migrated instance. */
  MIGRATION_REPLAY_END_RECEIVED,
  /** In-band "restored here" signals this node sent to the previous place of an instance restored here. */
  MIGRATION_RESTORED_SENT,
  /**
   * In-band "restored here" signals this node received from the destination it named when it froze
   * the instance: it released at once, without waiting for the root's push.
   */
  MIGRATION_RESTORED_RECEIVED,
  /**
   * Packets for an instance restored here that came from a sender other than its previous place and
   * waited until that place's replay ended, so they did not overtake it.
   */
  MIGRATION_ORDER_HELD,
  /**
   * A restored instance's wait for the replay end that hit its bound (time or packets): the waiting
   * packets were delivered at once, possibly out of order (nothing is dropped).
   */
  MIGRATION_ORDER_BOUND_HIT,
  /** Packets parked while their route was being resolved. */
  PARKED,
  /** Parked packets translated after their route arrived. */
  UNPARKED,
  MSS_CLAMPED,
  ICMP_ERRORS_TRANSLATED,
  UNREACHABLE_SENT,
  ADMIN_PROHIBITED_SENT,
  PACKET_TOO_BIG_SENT,
  TIME_EXCEEDED_SENT,
  ROUTE_NOT_FOUND_SENT,
  ROUTE_NOT_FOUND_RECEIVED,
  DROP_TRUNCATED,
  DROP_BAD_VERSION,
  DROP_BAD_IHL,
  DROP_BAD_LENGTH,
  DROP_UNSUPPORTED_PROTOCOL,
  /** Source is not a local instance. */
  DROP_UNKNOWN_SOURCE,
  /** The sender has no InstanceIP of the packet's family. */
  DROP_NO_INSTANCE_IP,
  /** The flow's park queue (or the global park budget) was full. */
  DROP_PARK_OVERFLOW,
  /** Parked packets whose resolution did not complete in time. */
  DROP_PARK_TIMEOUT,
  /** The service managers could not be asked. */
  DROP_RESOLVER_UNAVAILABLE,
  /** No route or no available instance (an ICMP unreachable is sent too). */
  DROP_NO_ROUTE,
  /** Refused by namespace isolation (an ICMP administratively-prohibited is sent too). */
  DROP_NOT_PERMITTED,
  /** Too big for the tunnel (a fragmentation-needed / packet-too-big is sent when allowed). */
  DROP_TOO_BIG,
  DROP_TTL_EXPIRED,
  /** A non-first fragment whose first fragment was not seen. */
  DROP_FRAGMENT_NO_FLOW,
  /** An ICMP error about no known flow. */
  DROP_ICMP_NO_FLOW,
  /** An ICMP message that is neither echo nor an error. */
  DROP_ICMP_OTHER,
  /** A packet from a peer for a local InstanceIP with no flow (a stray reply). */
  DROP_NO_FLOW,
  /** A packet from a peer for an address that is no local instance (route-not-found is sent). */
  DROP_NO_LOCAL_INSTANCE,
  /** A remote destination but no tunnel. */
  DROP_NO_TUNNEL,
  /** The FIFO of a frozen (migrating) instance was full (packet or byte cap). */
  DROP_MIGRATION_OVERFLOW,
  /** A packet for a frozen instance while migration buffering is off. */
  DROP_MIGRATION_FROZEN,
  /** A new flow whose key collides with an existing flow of another conversation. */
  DROP_FLOW_COLLISION,
  /**
   * Cryptokey routing: a peer's packet whose inner source is no address the root's signed records
   * place on that peer (nor on a node they name as a migrated instance's previous place, within the
   * linger); no flow is learned.
   */
  DROP_SOURCE_NOT_OWNED,
  /** A peer's first packet for a local instance whose sender's service may not reach it (isolation on ingress). */
  DROP_NOT_PERMITTED_INGRESS,
  /** A reply for a local client's flow from a peer that is not the flow's next hop. */
  DROP_REPLY_NOT_NEXT_HOP,
  /** A packet of a learned flow from another peer whose signed records do not place the source there (no roaming). */
  DROP_ROAM_NOT_OWNED,
  /** An ICMP error about a flow from a peer that is not the flow's next hop. */
  DROP_ICMP_NOT_NEXT_HOP,
  /** An ICMP error whose outer addresses are not those of the flow it quotes (not from the flow's endpoint). */
  DROP_ICMP_ENDPOINT_MISMATCH,
  /** A reply relayed for a migrated instance by a peer that is not the instance's new place. */
  DROP_RELAY_NOT_NEW_PLACE,
  /** An IPv6 packet with an IPv4-mapped source or destination ({@code ::ffff:a.b.c.d}); never handled as IPv4. */
  DROP_MAPPED_ADDRESS,
  /** A fragmented datagram whose tracking would pass the per-flow or the total fragment cap. */
  DROP_FRAGMENT_LIMIT,
  /** Packets refused because the sending instance (or peer) used up its fair share of the park budget. */
  DROP_PARK_QUOTA,
  /** ICMP errors this node would have sent, suppressed by the rate limit. */
  ICMP_ERRORS_RATE_LIMITED;

  /** True for the drop reasons. */
  public boolean isDrop() {
    return name().startsWith("DROP_");
  }
}
