package io.semnet.proxy.internal;

import io.semnet.core.policy.CandidateSet;
import io.semnet.core.policy.InstanceSelector;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.policy.RoutingPolicyRegistry;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.Route;
import io.semnet.proxy.internal.packet.PacketView;
import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the instance a new flow goes to: an InstanceIP names its instance; a ServiceIP asks its
 * routing policy's selector, one per ServiceIP, kept (with the candidates of the record it last
 * saw) until the route names another policy or record. Runs once per new flow, never for packets
 * of established flows.
 */
final class InstanceChooser {
  private static final Logger log = LoggerFactory.getLogger(InstanceChooser.class);

  private final ConcurrentHashMap<InetAddress, Selector> selectors = new ConcurrentHashMap<>();
  private final AtomicLong generations = new AtomicLong();
  private RoutingPolicyRegistry policies;
  private LocalNodeView view;

  void start(Wiring wiring) {
    this.policies = wiring.policies();
    this.view = wiring.view();
  }

  /**
   * The instance for a new flow of {@code pv} to {@code dst} over {@code route}, reachable over
   * the packet's family, or null if there is none (or no such policy).
   */
  InstanceRecord choose(Route route, InetAddress dst, boolean v6, PacketView pv) {
    if (!route.isServiceIp()) {
      InstanceRecord r = route.instance();
      return r != null && r.reachableOver(!v6) ? r : null;
    }
    Selector s = selectors.get(dst);
    if (s == null || !s.policy.equals(route.policy())) {
      RoutingPolicyRegistry reg = policies;
      if (reg == null || !reg.contains(route.policy())) {
        log.warn("no routing policy '{}' for {}", route.policy(), dst);
        return null;
      }
      s = new Selector(route.policy(), reg.policy(route.policy()).newSelector());
      selectors.put(dst, s);
    }
    Candidates c = s.candidates;
    if (c == null || c.record != route.record()) {
      c = new Candidates(route.record(), !v6, generations.incrementAndGet());
      s.candidates = c;
    }
    if (c.size() == 0) {
      return null;
    }
    long key = pv.srcHi() * 0x9E3779B97F4A7C15L ^ pv.srcLo() * 0xC2B2AE3D27D4EB4FL;
    int i = s.selector.select(c, key ^ (key >>> 29), view);
    return i < 0 || i >= c.size() ? null : c.get(i);
  }

  /** A policy's selector for one ServiceIP and its current candidates. */
  private static final class Selector {
    final String policy;
    final InstanceSelector selector;
    volatile Candidates candidates;

    Selector(String policy, InstanceSelector selector) {
      this.policy = policy;
      this.selector = selector;
    }
  }

  /** The instances of a record reachable over one family, as an indexed candidate set. */
  private static final class Candidates implements CandidateSet {
    final ServiceRecord record;
    final InstanceRecord[] members;
    final long generation;

    Candidates(ServiceRecord record, boolean ipv4, long generation) {
      this.record = record;
      this.members = record.instances().stream().filter(r -> r.reachableOver(ipv4)).toArray(InstanceRecord[]::new);
      this.generation = generation;
    }

    @Override
    public int size() {
      return members.length;
    }

    @Override
    public InstanceRecord get(int index) {
      return members[index];
    }

    @Override
    public long generation() {
      return generation;
    }
  }
}
