package io.semnet.control;

import io.semnet.resolver.NodeRegistration;
import io.semnet.resolver.enrol.JoinToken;

import io.semnet.core.address.Addresses;
import io.semnet.core.address.IpPrefix;
import io.semnet.core.address.ServiceIp;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.isolation.Grant;
import io.semnet.core.isolation.IsolationRules;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.plan.AllocationException;
import io.semnet.core.plan.InstanceAddressRule;
import io.semnet.core.plan.PrefixAllocator;
import io.semnet.core.plan.VirtualAddressAllocator;
import io.semnet.core.policy.RoutingPolicyRegistry;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceKey;
import io.semnet.core.record.InstanceMetadata;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.NodeCertificate;
import io.semnet.core.trust.RootAuthority;
import io.semnet.resolver.protocol.SignedRecord;
import io.semnet.resolver.protocol.SignedRemoval;
import io.semnet.resolver.protocol.SignedRules;
import io.semnet.control.store.RootEvent;
import io.semnet.control.store.RootStore;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The root's own {@link Orchestration}, in the root manager's JVM. What an orchestrator calls on the root: register nodes (they get subnets and a certificate of
 * their tunnel key), deploy services from descriptors, scale, report where an instance runs, migrate
 * it, remove services, and grant paths between namespaces. The root is the one allocation authority
 * (semnet-core's allocators) and the one clock of record versions, so allocations never collide and
 * updates are totally ordered.
 *
 * <p>Every operation is all-or-nothing: an invalid or conflicting request throws
 * {@link OrchestrationException} with the reason and changes nothing. A successful one is written to
 * the {@link RootStore} before it is published, then signed and pushed to every interested manager.
 * Thread-safe (operations are serialised).
 */
final class RootOrchestration implements Orchestration {
  private final Duration certificateValidity;
  final JoinTokens joinTokens;

  final RecordPublisher manager;
  final RootAuthority authority;
  final AddressPlan plan;
  private final Set<String> platformPolicies;
  final RootStore store;
  final Clock clock;
  final VirtualAddressAllocator virtual;
  final PrefixAllocator poolsV4;
  final PrefixAllocator poolsV6;
  final Map<String, List<PrefixAllocator>> clusterPools = new HashMap<>();
  final Map<String, NodeRegistration> nodes = new HashMap<>();
  final Map<String, Set<String>> clusterNodes = new java.util.concurrent.ConcurrentHashMap<>();
  final Map<ServiceId, ServiceRecord> services = new HashMap<>();
  final Map<ServiceId, InstanceAddressRule> addressRules = new HashMap<>();
  final Map<String, Map<InetAddress, InstanceKey>> namespaceIps = new HashMap<>();
  long version;
  /** The highest liveness event number in the store at start ({@link NodeEventLog} continues after it). */
  long eventSequence;
  SignedRules rules;
  final AddressBook book = new AddressBook(this);
  final RootRevocations revocations = new RootRevocations(this);

  RootOrchestration(RecordPublisher manager, RootAuthority authority, AddressPlan plan, Set<String> policies,
      RoutingPolicyRegistry registry, RootStore store, Clock clock, Duration certificateValidity) {
    this.certificateValidity = Objects.requireNonNull(certificateValidity, "certificateValidity");
    this.joinTokens = new JoinTokens(authority.trust(), clock);
    this.manager = manager;
    this.authority = authority;
    this.plan = Objects.requireNonNull(plan, "plan");
    Set<String> p = policies != null ? new TreeSet<>(policies) : new TreeSet<>(registry.policyNames());
    for (String name : p) {
      if (!registry.contains(name)) {
        throw new IllegalArgumentException("platform policy '" + name + "' is not in the policy registry " + registry.policyNames());
      }
    }
    this.platformPolicies = Set.copyOf(p);
    this.store = store;
    this.clock = clock;
    this.virtual = new VirtualAddressAllocator(plan, clock);
    this.poolsV4 = plan.ipv4() == null ? null : plan.newClusterPoolAllocator(true, clock);
    this.poolsV6 = plan.ipv6() == null ? null : plan.newClusterPoolAllocator(false, clock);
    new RootRestore(this).restore(store.load());
  }

  /** Signs and installs every stored record in the manager (after a restart). */
  synchronized void republishAll() {
    for (ServiceRecord r : services.values()) {
      manager.applyRecord(SignedRecord.signLazily(r, authority));
    }
  }

  synchronized SignedRules currentRules() {
    return rules;
  }

  Set<String> nodesOfCluster(String clusterId) {
    Set<String> s = clusterNodes.get(clusterId);
    return s == null ? Set.of() : s;
  }

  synchronized String clusterOfNode(String nodeId) {
    NodeRegistration n = nodes.get(nodeId);
    return n == null ? null : n.clusterId();
  }

  void close() {
    store.close();
  }

  // ---------------------------------------------------------------- nodes

  @Override
  public synchronized NodeRegistration registerNode(String clusterId, WorkerEndpoint endpoint, GeoPoint location) {
    Objects.requireNonNull(clusterId, "clusterId");
    Objects.requireNonNull(endpoint, "endpoint");
    NodeRegistration existing = nodes.get(endpoint.nodeId());
    if (existing != null) {
      if (existing.clusterId().equals(clusterId) && existing.endpoint().equals(endpoint) && Objects.equals(existing.location(), location)) {
        return existing;
      }
      throw new OrchestrationException("node '" + endpoint.nodeId() + "' is already registered (cluster "
          + existing.clusterId() + ", " + existing.endpoint() + "); deregister it first");
    }
    if (clusterId.equals(manager.id())) {
      throw new OrchestrationException("cluster id '" + clusterId + "' is the root's own id");
    }
    List<RootEvent> events = new ArrayList<>();
    List<Runnable> undo = new ArrayList<>();
    try {
      IpPrefix v4 = plan.ipv4() == null ? null : nodeSubnet(clusterId, true, events, undo);
      IpPrefix v6 = plan.ipv6() == null ? null : nodeSubnet(clusterId, false, events, undo);
      byte[] key = endpoint.publicKey();
      if (key.length != 0 && revocations.isRevokedKey(endpoint.nodeId(), key)) {
        throw new OrchestrationException("the tunnel key of node '" + endpoint.nodeId() + "' was revoked when it was deregistered;"
            + " register it with a new key");
      }
      NodeCertificate cert = key.length == 0 ? null : certify(endpoint.nodeId(), key);
      NodeRegistration reg = new NodeRegistration(endpoint.nodeId(), clusterId, endpoint, location, v4, v6, cert);
      events.add(new RootEvent.NodePut(reg));
      for (RootEvent e : events) {
        store.append(e);
      }
      nodes.put(reg.nodeId(), reg);
      clusterNodes.computeIfAbsent(clusterId, k -> java.util.concurrent.ConcurrentHashMap.newKeySet()).add(reg.nodeId());
      return reg;
    } catch (RuntimeException e) {
      for (int i = undo.size() - 1; i >= 0; i--) {
        undo.get(i).run();
      }
      throw e instanceof OrchestrationException ? e : new OrchestrationException("cannot register node '" + endpoint.nodeId() + "': " + e.getMessage(), e);
    }
  }

  private IpPrefix nodeSubnet(String clusterId, boolean v4, List<RootEvent> events, List<Runnable> undo) {
    List<PrefixAllocator> pools = clusterPools.computeIfAbsent(clusterId, k -> new ArrayList<>());
    for (PrefixAllocator a : pools) {
      if (a.range().isIpv4() == v4) {
        try {
          IpPrefix p = a.allocate();
          undo.add(() -> a.release(p));
          return p;
        } catch (AllocationException full) {
          // try the next pool
        }
      }
    }
    PrefixAllocator poolAlloc = v4 ? poolsV4 : poolsV6;
    IpPrefix pool = poolAlloc.allocate();
    PrefixAllocator a = plan.newNodeSubnetAllocator(pool, clock);
    pools.add(a);
    undo.add(() -> {
      pools.remove(a);
      poolAlloc.release(pool);
    });
    events.add(new RootEvent.PoolPut(clusterId, pool));
    IpPrefix p = a.allocate();
    return p;
  }

  @Override
  public synchronized void deregisterNode(String nodeId) {
    NodeRegistration n = nodes.get(nodeId);
    if (n == null) {
      throw new OrchestrationException("node '" + nodeId + "' is not registered");
    }
    Map<InetAddress, InstanceKey> placed = namespaceIps.get(nodeId);
    if (placed != null && !placed.isEmpty()) {
      throw new OrchestrationException("node '" + nodeId + "' still hosts " + new TreeSet<>(placed.values().stream().map(Object::toString).toList())
          + "; migrate or remove them first");
    }
    store.append(new RootEvent.NodeRemoved(nodeId));
    if (n.certificate() != null) {
      revocations.revoke(n.certificate());
    }
    Instant until = clock.instant().plus(plan.quarantine());
    for (IpPrefix sub : new IpPrefix[] {n.subnetV4(), n.subnetV6()}) {
      if (sub == null) {
        continue;
      }
      for (PrefixAllocator a : clusterPools.getOrDefault(n.clusterId(), List.of())) {
        if (a.range().contains(sub)) {
          a.release(sub);
          store.append(new RootEvent.Released(sub, until));
        }
      }
    }
    nodes.remove(nodeId);
    clusterNodes.getOrDefault(n.clusterId(), new HashSet<>()).remove(nodeId);
    namespaceIps.remove(nodeId);
  }

  @Override
  public synchronized NodeRegistration node(String nodeId) {
    return nodes.get(nodeId);
  }

  @Override
  public synchronized List<NodeRegistration> nodes() {
    return List.copyOf(nodes.values());
  }

  /** A certificate valid from now for {@link #certificateValidity()}, its serial the next version (durable with the root state). */
  private NodeCertificate certify(String nodeId, byte[] key) {
    Instant now = clock.instant();
    return authority.certify(nodeId, key, ++version, now, now.plus(certificateValidity));
  }

  /** How long a node certificate issued now is valid. */
  Duration certificateValidity() {
    return certificateValidity;
  }

  /**
   * Re-certifies a registered node's tunnel key for another {@link #certificateValidity()} (the
   * node renews before its certificate expires); journalled like a registration.
   *
   * @throws OrchestrationException if the node is unknown, has no key, or its certificate expired
   *     (an expired node enrols again with a join token)
   */
  synchronized NodeRegistration renewCertificate(String nodeId) {
    NodeRegistration n = nodes.get(nodeId);
    if (n == null) {
      throw new OrchestrationException("node '" + nodeId + "' is not registered");
    }
    if (n.certificate() == null) {
      throw new OrchestrationException("node '" + nodeId + "' has no tunnel key to certify");
    }
    Instant now = clock.instant();
    if (!n.certificate().notAfter().isAfter(now)) {
      throw new OrchestrationException("certificate of node '" + nodeId + "' expired at " + n.certificate().notAfter()
          + "; enrol again with a join token");
    }
    NodeCertificate cert = certify(nodeId, n.endpoint().publicKey());
    NodeRegistration renewed = new NodeRegistration(n.nodeId(), n.clusterId(), n.endpoint(), n.location(), n.subnetV4(), n.subnetV6(), cert);
    store.append(new RootEvent.NodePut(renewed));
    nodes.put(nodeId, renewed);
    return renewed;
  }

  @Override
  public JoinToken issueJoinToken(String clusterId, Duration ttl, boolean oneTime) {
    Objects.requireNonNull(clusterId, "clusterId");
    if (clusterId.equals(manager.id())) {
      throw new OrchestrationException("cluster id '" + clusterId + "' is the root's own id");
    }
    return joinTokens.issue(clusterId, ttl, oneTime);
  }

  // ---------------------------------------------------------------- services

  @Override
  public Set<String> platformPolicies() {
    return platformPolicies;
  }

  @Override
  public synchronized ServiceRecord record(ServiceId service) {
    return services.get(service);
  }

  @Override
  public synchronized ServiceRecord deploy(ServiceDescriptor d) {
    Objects.requireNonNull(d, "descriptor");
    ServiceId sid = d.service();
    if (services.containsKey(sid)) {
      throw new OrchestrationException("service " + sid + " is already deployed");
    }
    for (Map.Entry<String, List<InetAddress>> pin : d.pinnedServiceIps().entrySet()) {
      if (!platformPolicies.contains(pin.getKey())) {
        throw new OrchestrationException("descriptor of " + sid + " pins a ServiceIP for policy '" + pin.getKey()
            + "', which the platform does not offer " + new TreeSet<>(platformPolicies));
      }
      for (InetAddress a : pin.getValue()) {
        String why = book.whyNotFree(a);
        if (why != null) {
          throw new OrchestrationException("cannot pin ServiceIP " + Addresses.format(a) + " for " + sid + ": " + why);
        }
      }
    }
    book.checkRule(sid, d.instanceRule(), 0, d.instances());
    List<ServiceIp> ips;
    try {
      ips = virtual.allocateServiceIps(sid, new TreeSet<>(platformPolicies), d.pinnedServiceIps());
    } catch (AllocationException e) {
      throw new OrchestrationException("cannot deploy " + sid + ": " + e.getMessage(), e);
    }
    List<InstanceRecord> instances = new ArrayList<>();
    try {
      for (int o = 0; o < d.instances(); o++) {
        instances.add(book.newInstance(sid, o, d.instanceRule()));
      }
    } catch (RuntimeException e) {
      book.releaseAll(ips, instances, false);
      throw new OrchestrationException("cannot deploy " + sid + ": " + e.getMessage(), e);
    }
    ServiceRecord r = ServiceRecord.of(sid, ++version, ips, instances);
    addressRules.put(sid, d.instanceRule());
    publish(r);
    return r;
  }

  @Override
  public synchronized ServiceRecord scale(ServiceId service, int instances) {
    ServiceRecord r = require(service);
    if (instances < 0) {
      throw new OrchestrationException("cannot scale " + service + " to " + instances + " instances");
    }
    List<InstanceRecord> current = r.instances();
    if (instances == current.size()) {
      return r;
    }
    if (instances > current.size()) {
      int next = current.isEmpty() ? 0 : current.get(current.size() - 1).ordinal() + 1;
      int add = instances - current.size();
      InstanceAddressRule rule = addressRules.getOrDefault(service, InstanceAddressRule.NONE);
      book.checkRule(service, rule, next, next + add);
      List<InstanceRecord> added = new ArrayList<>();
      try {
        for (int o = next; o < next + add; o++) {
          added.add(book.newInstance(service, o, rule));
        }
      } catch (RuntimeException e) {
        book.releaseAll(List.of(), added, false);
        throw new OrchestrationException("cannot scale " + service + ": " + e.getMessage(), e);
      }
      List<InstanceRecord> all = new ArrayList<>(current);
      all.addAll(added);
      ServiceRecord n = ServiceRecord.of(service, ++version, r.serviceIps(), all);
      publish(n);
      return n;
    }
    List<InstanceRecord> keep = new ArrayList<>(current.subList(0, instances));
    List<InstanceRecord> gone = new ArrayList<>(current.subList(instances, current.size()));
    ServiceRecord n = ServiceRecord.of(service, ++version, r.serviceIps(), keep);
    publish(n);
    for (InstanceRecord g : gone) {
      book.indexNamespace(g, false);
    }
    book.releaseAll(List.of(), gone, true);
    return n;
  }

  @Override
  public synchronized ServiceRecord placeInstance(ServiceId service, int ordinal, Locator locator, InstanceMetadata metadata) {
    ServiceRecord r = require(service);
    InstanceRecord i = requireInstance(r, ordinal);
    if (i.locator() != null) {
      throw new OrchestrationException(i.key() + " is already placed on " + i.locator().worker().nodeId() + "; use migrate");
    }
    return book.relocate(r, i, locator, metadata);
  }

  @Override
  public synchronized ServiceRecord placeInstances(ServiceId service, Map<Integer, Locator> placements) {
    ServiceRecord r = require(service);
    Map<InetAddress, InstanceKey> claimed = new HashMap<>();
    List<InstanceRecord> placed = new ArrayList<>();
    long v = version + 1;
    for (Map.Entry<Integer, Locator> p : new java.util.TreeMap<>(placements).entrySet()) {
      InstanceRecord i = requireInstance(r, p.getKey());
      if (i.locator() != null) {
        throw new OrchestrationException(i.key() + " is already placed on " + i.locator().worker().nodeId() + "; use migrate");
      }
      NodeRegistration node = book.checkPlacement(i, p.getValue());
      for (InetAddress a : new InetAddress[] {p.getValue().namespaceIpv4(), p.getValue().namespaceIpv6()}) {
        if (a != null && claimed.put(a, i.key()) != null) {
          throw new OrchestrationException("namespace IP " + Addresses.format(a) + " given to two instances of " + service);
        }
      }
      placed.add(i.withLocator(p.getValue().withVersion(v)).withMetadata(InstanceMetadata.of(node.location(), 1.0, "")));
    }
    ServiceRecord n = r;
    version = v;
    for (InstanceRecord i : placed) {
      n = n.withInstance(i, v);
    }
    publish(n);
    placed.forEach(i -> book.indexNamespace(i, true));
    return n;
  }

  @Override
  public synchronized ServiceRecord migrate(ServiceId service, int ordinal, Locator newLocator) {
    ServiceRecord r = require(service);
    InstanceRecord i = requireInstance(r, ordinal);
    if (i.locator() == null) {
      throw new OrchestrationException(i.key() + " is not placed yet; use placeInstance");
    }
    Locator old = i.locator();
    if (old.worker().equals(newLocator.worker()) && Objects.equals(old.namespaceIpv4(), newLocator.namespaceIpv4())
        && Objects.equals(old.namespaceIpv6(), newLocator.namespaceIpv6())) {
      throw new OrchestrationException(i.key() + " is already at " + old);
    }
    InstanceMetadata meta = i.metadata();
    NodeRegistration node = nodes.get(newLocator.worker().nodeId());
    if (node != null && node.location() != null) {
      meta = InstanceMetadata.of(node.location(), meta.capacity(), meta.zone());
    }
    return book.relocate(r, i, newLocator, meta);
  }

  @Override
  public synchronized ServiceRecord updateCapacity(ServiceId service, int ordinal, double capacity) {
    ServiceRecord r = require(service);
    InstanceRecord i = requireInstance(r, ordinal);
    InstanceMetadata m;
    try {
      m = i.metadata().withCapacity(capacity);
    } catch (IllegalArgumentException e) {
      throw new OrchestrationException(e.getMessage());
    }
    ServiceRecord n = r.withInstance(i.withMetadata(m), ++version);
    publish(n);
    return n;
  }

  @Override
  public synchronized ServiceRecord unplaceInstance(ServiceId service, int ordinal) {
    ServiceRecord r = require(service);
    InstanceRecord i = requireInstance(r, ordinal);
    if (i.locator() == null) {
      throw new OrchestrationException(i.key() + " is not placed");
    }
    ServiceRecord n = r.withInstance(i.withLocator(null), ++version);
    publish(n);
    book.indexNamespace(i, false);
    return n;
  }

  @Override
  public synchronized void remove(ServiceId service) {
    ServiceRecord r = require(service);
    long v = ++version;
    store.append(new RootEvent.ServiceRemoved(service, v));
    services.remove(service);
    addressRules.remove(service);
    for (InstanceRecord i : r.instances()) {
      book.indexNamespace(i, false);
    }
    manager.applyRemoval(SignedRemoval.sign(service, v, authority));
    book.releaseAll(r.serviceIps(), r.instances(), true);
  }

  // ---------------------------------------------------------------- isolation

  @Override
  public synchronized IsolationRules grant(Grant grant) {
    Objects.requireNonNull(grant, "grant");
    IsolationRules cur = rules.rules();
    if (cur.grants().contains(grant)) {
      return cur;
    }
    return publishRules(cur.withGrant(grant));
  }

  @Override
  public synchronized IsolationRules revoke(Grant grant) {
    IsolationRules cur = rules.rules();
    if (!cur.grants().contains(grant)) {
      throw new OrchestrationException("no such grant: " + grant);
    }
    return publishRules(cur.withoutGrant(grant));
  }

  @Override
  public synchronized IsolationRules isolationRules() {
    return rules.rules();
  }

  private IsolationRules publishRules(IsolationRules next) {
    long v = ++version;
    store.append(new RootEvent.RulesPut(v, next.grants()));
    rules = SignedRules.sign(v, next, authority);
    manager.applyRules(rules);
    return next;
  }

  // ---------------------------------------------------------------- helpers

  private ServiceRecord require(ServiceId service) {
    Objects.requireNonNull(service, "service");
    ServiceRecord r = services.get(service);
    if (r == null) {
      throw new OrchestrationException("service " + service + " is not deployed");
    }
    return r;
  }

  private static InstanceRecord requireInstance(ServiceRecord r, int ordinal) {
    InstanceRecord i = r.instance(ordinal);
    if (i == null) {
      throw new OrchestrationException(r.service() + " has no instance " + ordinal + " (instances: "
          + new LinkedHashSet<>(r.instances().stream().map(InstanceRecord::ordinal).toList()) + ")");
    }
    return i;
  }

  void publish(ServiceRecord r) {
    store.append(new RootEvent.ServicePut(r, addressRules.getOrDefault(r.service(), InstanceAddressRule.NONE)));
    services.put(r.service(), r);
    manager.applyRecord(SignedRecord.signLazily(r, authority));
  }
}
