package io.semnet.mdns.internal;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.semnet.core.address.Addresses;
import io.semnet.core.node.RouteResolver;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.Resolution;
import io.semnet.core.service.SemanticName;
import io.semnet.core.service.ServiceId;
import io.semnet.mdns.ResponderCounters;
import io.semnet.mdns.ResponderCounters.Counter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The responder's brain, independent of sockets: decodes a query, answers it from the name store
 * or starts (or joins) a table query, and builds unicast-DNS and mDNS replies. Single-threaded: every
 * method runs on {@code loop}; resolver completions and pushes are handed over to it. A cached
 * answer allocates nothing but the pooled reply buffer.
 */
public final class QueryEngine {
  /** Relays out-of-zone unicast queries to upstream resolvers. */
  public interface Forwarder {
    /** Forwards {@code query} (not retained beyond the call); answers {@code dest} on {@code sink} later. */
    void forward(ByteBuf query, ParsedQuery parsed, ReplySink sink, Object dest);
  }

  /** Where multicast mDNS replies and goodbyes of one address family go. */
  public static final class MdnsOutput {
    final ReplySink sink;
    final InetSocketAddress group;

    public MdnsOutput(ReplySink sink, InetSocketAddress group) {
      this.sink = sink;
      this.group = group;
    }
  }

  public static final int TYPE_A = 1;
  public static final int TYPE_AAAA = 28;
  public static final int TYPE_ANY = 255;
  static final int RCODE_NOERROR = 0;
  static final int RCODE_FORMERR = 1;
  static final int RCODE_SERVFAIL = 2;
  static final int RCODE_NXDOMAIN = 3;
  static final int RCODE_NOTIMP = 4;
  static final int RCODE_REFUSED = 5;
  private static final byte[] ZONE = SemanticName.ZONE.getBytes(StandardCharsets.US_ASCII);
  private static final int MDNS_PORT = 5353;

  private enum Mode { UNICAST, MDNS_LEGACY, MDNS_MULTICAST, MDNS_UNICAST }

  private final EngineConfig cfg;
  private final RouteResolver resolver;
  private final Predicate<String> knownPolicy;
  private final EventExecutor loop;
  private final ResponderCounts counters;
  private final Forwarder forwarder;
  private final Map<NameKey, NameEntry> store = new HashMap<>();
  private final Map<NameKey, Pending> pending = new HashMap<>();
  private final List<MdnsOutput> multicastOutputs = new ArrayList<>();
  private final ParsedQuery query = new ParsedQuery();
  private final NameKey probe = new NameKey();
  private final Replies replies;
  private boolean closed;
  private int waiting;

  public QueryEngine(EngineConfig cfg, RouteResolver resolver, Predicate<String> knownPolicy, EventExecutor loop,
      ResponderCounts counters, Forwarder forwarder) {
    this.cfg = cfg;
    this.resolver = resolver;
    this.knownPolicy = knownPolicy;
    this.loop = loop;
    this.counters = counters;
    this.forwarder = forwarder;
    this.replies = new Replies(cfg, counters);
  }

  /** Adds a multicast output (one per address family) for mDNS goodbyes. */
  public void addMulticastOutput(MdnsOutput out) {
    multicastOutputs.add(out);
  }

  // ---------------------------------------------------------------- unicast DNS

  /**
   * Handles a unicast DNS query (UDP or TCP, port 53).
   *
   * @param onLink whether the source lies on the bridge's link
   * @return the reply to send now (the caller sends and releases it), or null if there is none yet
   *     (a table query or an upstream will answer through {@code sink}) or none at all (dropped)
   */
  public ByteBuf handleUnicast(ByteBuf msg, boolean onLink, ReplySink sink, Object dest) {
    ParsedQuery q = query;
    int r = QueryParser.parse(msg, q);
    if (r == QueryParser.TOO_SHORT) {
      counters.increment(Counter.MALFORMED_DROPPED);
      return null;
    }
    if (r == QueryParser.NOT_A_QUERY) {
      counters.increment(Counter.RESPONSES_DROPPED);
      return null;
    }
    if (msg.readableBytes() > cfg.maxUnicastQuery) {
      counters.increment(Counter.OVERSIZED);
      counters.increment(Counter.FORMERR);
      return replies.headerOnly(q, RCODE_FORMERR, sink);
    }
    if (r != QueryParser.OK || q.questionCount != 1) {
      counters.increment(Counter.FORMERR);
      return replies.headerOnly(q, RCODE_FORMERR, sink);
    }
    if (q.opcode() != 0) {
      counters.increment(Counter.NOTIMP);
      return replies.headerOnly(q, RCODE_NOTIMP, sink);
    }
    if (!onLink) {
      counters.increment(Counter.OFF_LINK);
      counters.increment(Counter.REFUSED);
      return replies.errorWithQuestion(q, RCODE_REFUSED, sink);
    }
    if (!WireNames.inZone(q.lowerNames[0], q.nameLengths[0], ZONE)) {
      if (forwarder == null || cfg.refuseOutOfZone) {
        counters.increment(Counter.REFUSED);
        return replies.errorWithQuestion(q, RCODE_REFUSED, sink);
      }
      counters.increment(Counter.FORWARDED);
      forwarder.forward(msg, q, sink, dest);
      return null;
    }
    int qclass = q.dnsClass(0);
    if (qclass != RecordEncoder.CLASS_IN && qclass != TYPE_ANY) {
      counters.increment(Counter.REFUSED);
      return replies.errorWithQuestion(q, RCODE_REFUSED, sink);
    }
    if (q.nameLengths[0] == ZONE.length + 2) {
      // The zone apex "local." exists but holds nothing: above all no SOA, whose presence makes
      // nss-mdns believe .local is a unicast zone and stop using mDNS.
      counters.increment(Counter.NODATA);
      return replies.errorWithQuestion(q, RCODE_NOERROR, sink);
    }
    NameEntry e = lookup(q, 0);
    if (e != null) {
      counters.increment(Counter.CACHE_HITS);
      return replies.unicastAnswer(q, e, sink);
    }
    String text = q.nameString(0);
    SemanticName.Result parsed = SemanticName.tryParse(text, knownPolicy);
    if (!parsed.isValid()) {
      if (SemanticName.isValidAncestor(text, knownPolicy)) {
        // An empty non-terminal above possible names: NXDOMAIN here would tell RFC 8020 resolvers
        // that nothing exists below it. Like the apex, it holds no records (and no SOA).
        counters.increment(Counter.ANCESTOR_NODATA);
        counters.increment(Counter.NODATA);
        return replies.errorWithQuestion(q, RCODE_NOERROR, sink);
      }
      counters.increment(Counter.INVALID_NAMES);
      counters.increment(Counter.NXDOMAIN);
      return replies.errorWithQuestion(q, RCODE_NXDOMAIN, sink);
    }
    SemanticName name = parsed.name();
    startResolve(probe.probe(q, 0).copy(), name, new Waiter(Mode.UNICAST, q.copy(), 0, sink, dest));
    return null;
  }

  // ---------------------------------------------------------------- mDNS

  /**
   * Handles a packet received on the mDNS port. Never answers with an error: questions for names
   * this node does not own, malformed packets and responses are all met with silence.
   *
   * @param viaMulticast whether it was sent to the mDNS group (false: unicast to this host)
   * @param output the multicast output of the packet's address family
   */
  public void handleMdns(ByteBuf msg, InetSocketAddress sender, boolean viaMulticast, boolean onLink, MdnsOutput output) {
    counters.increment(Counter.MDNS_PACKETS);
    if (!onLink) {
      counters.increment(Counter.OFF_LINK);
      return;
    }
    if (msg.readableBytes() > cfg.maxMdnsPacket) {
      counters.increment(Counter.OVERSIZED);
      return;
    }
    ParsedQuery q = query;
    int r = QueryParser.parse(msg, q);
    if (r == QueryParser.NOT_A_QUERY) {
      counters.increment(Counter.RESPONSES_DROPPED); // other responders' announcements: normal
      return;
    }
    if (r != QueryParser.OK || q.opcode() != 0 || q.decoded == 0) {
      counters.increment(Counter.MDNS_DROPPED);
      return;
    }
    boolean legacy = sender.getPort() != MDNS_PORT;
    if (legacy) {
      counters.increment(Counter.MDNS_LEGACY_QUERIES);
    } else if (q.answerCount > 0) {
      QueryParser.parseKnownAnswers(msg, q);
    }
    int answered = 0;
    for (int i = 0; i < q.decoded; i++) {
      int qclass = q.dnsClass(i);
      if ((qclass != RecordEncoder.CLASS_IN && qclass != TYPE_ANY)
          || !WireNames.inZone(q.lowerNames[i], q.nameLengths[i], ZONE)) {
        counters.increment(Counter.MDNS_NOT_OWNED);
        continue;
      }
      NameEntry e = lookup(q, i);
      if (e == null) {
        SemanticName name = parseName(q, i);
        if (name == null) {
          counters.increment(Counter.MDNS_NOT_OWNED);
          continue;
        }
        Mode mode = legacy ? Mode.MDNS_LEGACY
            : (q.unicastResponse(i) || !viaMulticast) ? Mode.MDNS_UNICAST : Mode.MDNS_MULTICAST;
        Object dest = mode == Mode.MDNS_MULTICAST ? output.group : sender;
        startResolve(probe.probe(q, i).copy(), name, new Waiter(mode, q.copy(), i, output.sink, dest));
        continue;
      }
      counters.increment(Counter.CACHE_HITS);
      if (!e.exists || !Replies.hasRecordFor(e, q.types[i])) {
        counters.increment(Counter.MDNS_NOT_OWNED);
        continue;
      }
      replies.answers[answered] = e;
      replies.questions[answered] = i;
      answered++;
    }
    if (answered == 0) {
      return;
    }
    if (legacy) {
      replies.sendLegacy(q, answered, output.sink, sender);
    } else {
      replies.sendMdns(q, answered, viaMulticast, output, sender);
    }
    for (int i = 0; i < answered; i++) {
      replies.answers[i] = null;
    }
  }

  // ---------------------------------------------------------------- name store

  private NameEntry lookup(ParsedQuery q, int i) {
    NameEntry e = store.get(probe.probe(q, i));
    if (e == null) {
      return null;
    }
    long now = System.nanoTime();
    if (now - e.refreshAt > 0) {
      if (!e.exists) {
        store.remove(e.key); // negative answers are only remembered briefly
        return null;
      }
      if (!e.refreshing) {
        // Serve the known (stable) addresses and revalidate in the background, so a removal the
        // resolver did not push is still noticed within the refresh interval.
        e.refreshing = true;
        startResolve(e.key, e.name, null);
      }
    }
    return e;
  }

  private SemanticName parseName(ParsedQuery q, int i) {
    SemanticName.Result r = SemanticName.tryParse(q.nameString(i), knownPolicy);
    return r.isValid() ? r.name() : null;
  }

  private void put(NameEntry e) {
    if (!store.containsKey(e.key) && store.size() >= cfg.maxEntries) {
      Iterator<NameEntry> it = store.values().iterator();
      it.next();
      it.remove();
    }
    store.put(e.key, e);
  }

  /** Fills {@code e} from {@code rec}; returns the records it replaced (for goodbyes). */
  private void fill(NameEntry e, ServiceRecord rec) {
    InetAddress v4 = null;
    InetAddress v6 = null;
    if (rec != null) {
      if (e.name.isInstance()) {
        InstanceRecord ir = rec.instance(e.name.instance());
        if (ir != null) {
          v4 = ir.instanceIpv4() == null ? null : ir.instanceIpv4().address();
          v6 = ir.instanceIpv6() == null ? null : ir.instanceIpv6().address();
        }
      } else {
        v4 = rec.serviceIp(e.name.policy(), true) == null ? null : rec.serviceIp(e.name.policy(), true).address();
        v6 = rec.serviceIp(e.name.policy(), false) == null ? null : rec.serviceIp(e.name.policy(), false).address();
      }
    }
    String owner = e.name.toString();
    NameEntry.Records oldA = e.a;
    NameEntry.Records oldAaaa = e.aaaa;
    e.a = v4 == null ? null : same(oldA, v4) ? oldA : RecordEncoder.records(owner, v4, cfg.ttlSeconds, cfg.legacyTtlSeconds);
    e.aaaa = v6 == null ? null : same(oldAaaa, v6) ? oldAaaa : RecordEncoder.records(owner, v6, cfg.ttlSeconds, cfg.legacyTtlSeconds);
    e.exists = v4 != null || v6 != null;
    e.refreshAt = System.nanoTime() + (e.exists ? cfg.refreshNanos : cfg.negativeNanos);
    if (oldA != null && oldA != e.a && e.lastMulticastA != Long.MIN_VALUE) {
      replies.goodbye(oldA, multicastOutputs);
    }
    if (oldAaaa != null && oldAaaa != e.aaaa && e.lastMulticastAaaa != Long.MIN_VALUE) {
      replies.goodbye(oldAaaa, multicastOutputs);
    }
  }

  private static boolean same(NameEntry.Records r, InetAddress a) {
    return r != null && java.util.Arrays.equals(r.rdata, a.getAddress());
  }

  // ---------------------------------------------------------------- pushes

  /** A newer record arrived for a service: re-derive every name of it at once. Call on the loop. */
  public void onRecordUpdated(ServiceRecord rec) {
    counters.increment(Counter.PUSHES_APPLIED);
    for (NameEntry e : store.values()) {
      if (e.service.equals(rec.service())) {
        fill(e, rec);
      }
    }
  }

  /** The service is gone (or no longer visible): forget its names now. Call on the loop. */
  public void onServiceRemoved(ServiceId service) {
    counters.increment(Counter.PUSHES_APPLIED);
    Iterator<NameEntry> it = store.values().iterator();
    while (it.hasNext()) {
      NameEntry e = it.next();
      if (e.service.equals(service)) {
        if (e.a != null && e.lastMulticastA != Long.MIN_VALUE) {
          replies.goodbye(e.a, multicastOutputs);
        }
        if (e.aaaa != null && e.lastMulticastAaaa != Long.MIN_VALUE) {
          replies.goodbye(e.aaaa, multicastOutputs);
        }
        it.remove();
      }
    }
  }

  /** Number of names in the store (for tests and monitoring). */
  public int storeSize() {
    return store.size();
  }

  /** Number of names with a table query in flight. */
  public int pendingNames() {
    return pending.size();
  }

  /** Stops answering waiters; their queries go unanswered. */
  public void close() {
    closed = true;
    for (Pending p : pending.values()) {
      if (p.timeout != null) {
        p.timeout.cancel(false);
      }
      p.waiters.clear();
    }
    waiting = 0;
    pending.clear();
  }

  // ---------------------------------------------------------------- table queries

  private static final class Waiter {
    final Mode mode;
    final ParsedQuery query;
    final int question;
    final ReplySink sink;
    final Object dest;

    Waiter(Mode mode, ParsedQuery query, int question, ReplySink sink, Object dest) {
      this.mode = mode;
      this.query = query;
      this.question = question;
      this.sink = sink;
      this.dest = dest;
    }
  }

  private static final class Pending {
    final NameKey key;
    final SemanticName name;
    final List<Waiter> waiters = new ArrayList<>(2);
    ScheduledFuture<?> timeout;

    Pending(NameKey key, SemanticName name) {
      this.key = key;
      this.name = name;
    }
  }

  private void startResolve(NameKey key, SemanticName name, Waiter w) {
    Pending p = pending.get(key);
    if (p != null) {
      if (w != null) {
        if (p.waiters.size() >= cfg.maxWaitersPerName || waiting >= cfg.maxPendingNames * 4) {
          counters.increment(Counter.OVERLOAD_DROPPED);
        } else {
          counters.increment(Counter.RESOLVES_SHARED);
          p.waiters.add(w);
          waiting++;
        }
      }
      return;
    }
    if (pending.size() >= cfg.maxPendingNames) {
      counters.increment(Counter.OVERLOAD_DROPPED);
      NameEntry e = store.get(key);
      if (e != null) {
        e.refreshing = false;
      }
      return;
    }
    Pending np = new Pending(key, name);
    if (w != null) {
      np.waiters.add(w);
      waiting++;
    }
    pending.put(key, np);
    counters.increment(Counter.RESOLVES_STARTED);
    np.timeout = loop.schedule(() -> timedOut(np), cfg.resolveTimeoutMillis, TimeUnit.MILLISECONDS);
    CompletionStage<Resolution> stage;
    try {
      stage = resolver.resolve(name);
    } catch (RuntimeException ex) {
      completed(np, null, ex);
      return;
    }
    stage.whenComplete((res, ex) -> {
      if (loop.inEventLoop()) {
        completed(np, res, ex);
      } else {
        loop.execute(() -> completed(np, res, ex));
      }
    });
  }

  private void timedOut(Pending p) {
    if (pending.get(p.key) != p) {
      return;
    }
    counters.increment(Counter.RESOLVE_TIMEOUTS);
    pending.remove(p.key);
    NameEntry e = store.get(p.key);
    if (e != null) {
      e.refreshing = false;
    }
    failWaiters(p);
  }

  private void completed(Pending p, Resolution res, Throwable ex) {
    if (closed) {
      return;
    }
    boolean current = pending.get(p.key) == p;
    if (current) {
      pending.remove(p.key);
      p.timeout.cancel(false);
    }
    NameEntry existing = store.get(p.key);
    if (existing != null) {
      existing.refreshing = false;
    }
    if (ex != null || res == null || res.status() == Resolution.Status.UNAVAILABLE) {
      // Keep serving what we had: the control plane being away does not make names disappear.
      if (current) {
        failWaiters(p);
      }
      return;
    }
    NameEntry e = existing != null ? existing : new NameEntry(p.key, p.name);
    fill(e, res.isFound() ? res.route().record() : null);
    put(e);
    if (!current) {
      return; // its waiters were already told SERVFAIL; the late answer still fills the store
    }
    for (Waiter w : p.waiters) {
      answerLater(w, e);
    }
    waiting -= p.waiters.size();
    p.waiters.clear();
  }

  private void failWaiters(Pending p) {
    for (Waiter w : p.waiters) {
      if (w.mode == Mode.UNICAST) {
        counters.increment(Counter.SERVFAIL);
        w.sink.send(w.dest, replies.errorWithQuestion(w.query, RCODE_SERVFAIL, w.sink));
      }
      // mDNS: silence; the querier retries
    }
    waiting -= p.waiters.size();
    p.waiters.clear();
  }

  private void answerLater(Waiter w, NameEntry e) {
    ParsedQuery q = w.query;
    switch (w.mode) {
      case UNICAST:
        w.sink.send(w.dest, replies.unicastAnswer(q, e, w.sink));
        return;
      default:
        int i = w.question;
        if (!e.exists || !Replies.hasRecordFor(e, q.types[i])) {
          counters.increment(Counter.MDNS_NOT_OWNED);
          return;
        }
        replies.answers[0] = e;
        replies.questions[0] = i;
        if (w.mode == Mode.MDNS_LEGACY) {
          replies.sendLegacy(q, 1, w.sink, (InetSocketAddress) w.dest);
        } else {
          MdnsOutput out = new MdnsOutput(w.sink, (InetSocketAddress) w.dest);
          // For a multicast waiter dest is the group; sendMdns picks unicast or multicast per question.
          replies.sendMdns(q, 1, w.mode == Mode.MDNS_MULTICAST || q.unicastResponse(i), out, (InetSocketAddress) w.dest);
        }
        replies.answers[0] = null;
    }
  }

  /** For diagnostics: the addresses the store holds for a name, formatted. */
  public String describe(String name) {
    NameEntry e = store.get(new NameKey(WireNames.toWire(name)));
    if (e == null) {
      return "unknown";
    }
    if (!e.exists) {
      return "nxdomain";
    }
    return (e.a == null ? "" : Addresses.format(Addresses.byAddress(e.a.rdata))) + " "
        + (e.aaaa == null ? "" : Addresses.format(Addresses.byAddress(e.aaaa.rdata)));
  }
}
