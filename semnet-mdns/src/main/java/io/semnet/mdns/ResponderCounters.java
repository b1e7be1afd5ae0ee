package io.semnet.mdns;

import io.semnet.core.stats.Stat;
import io.semnet.core.stats.StatsSource;
import io.semnet.core.stats.StatsVisitor;
import io.semnet.mdns.internal.ResponderCounts;
import java.util.EnumMap;
import java.util.Map;

/**
 * Live counters of a {@link SemanticNameResponder}: what it received, how it answered and what it
 * dropped. Written by the responder's event loop, readable from any thread at any time; values only
 * grow. Every dropped or refused packet is counted under exactly one reason.
 *
 * <p>As a {@link StatsSource} it reports {@code semnet.dns.responses{rcode}} (unicast answers by
 * response code: NOERROR counts answers with records and NODATA), {@code semnet.dns.queries{transport}}
 * and every counter as {@code semnet.dns.events{event}}.
 */
public final class ResponderCounters implements StatsSource {
  /** What is counted. */
  public enum Counter {
    /** Unicast DNS queries received over UDP (port 53). */
    UNICAST_UDP_QUERIES,
    /** Unicast DNS queries received over TCP (port 53). */
    UNICAST_TCP_QUERIES,
    /** mDNS packets received (port 5353), queries or not. */
    MDNS_PACKETS,
    /** Unicast answers with at least one address record. */
    ANSWERED,
    /**
     * Unicast answers NOERROR without records (name exists, not with that type; the zone apex; or an
     * ancestor of possible names, see {@link #ANCESTOR_NODATA}).
     */
    NODATA,
    /**
     * NODATA answers (also counted in {@link #NODATA}) for names shorter than a semantic name whose
     * labels could all continue into a valid one, e.g. {@code prod.any.rr.local}: empty
     * non-terminals, answered without a table query.
     */
    ANCESTOR_NODATA,
    /** NXDOMAIN: impossible, unknown-policy or not-found semantic names. */
    NXDOMAIN,
    /** Impossible names (syntax) among {@link #NXDOMAIN}. */
    INVALID_NAMES,
    /** FORMERR answers to malformed unicast queries. */
    FORMERR,
    /** REFUSED answers (out of zone without forwarding, off-link source, unsupported class). */
    REFUSED,
    /** NOTIMP answers (opcode other than QUERY). */
    NOTIMP,
    /** SERVFAIL answers (resolver unavailable or timed out, upstreams failed). */
    SERVFAIL,
    /** Packets too short or too broken to answer at all; dropped. */
    MALFORMED_DROPPED,
    /** DNS responses (QR set) arriving where queries are expected; dropped. */
    RESPONSES_DROPPED,
    /** Packets larger than the configured maximum; dropped (mDNS) or FORMERR (unicast). */
    OVERSIZED,
    /** Packets from a source outside the bridge's subnets. */
    OFF_LINK,
    /** mDNS queries dropped for being malformed, not queries, or of an unsupported opcode. */
    MDNS_DROPPED,
    /** mDNS questions for names this node does not own (no answer sent, as RFC 6762 requires). */
    MDNS_NOT_OWNED,
    /** mDNS responses sent by multicast. */
    MDNS_MULTICAST_RESPONSES,
    /** mDNS responses sent by unicast (QU bit, direct unicast query, or legacy unicast). */
    MDNS_UNICAST_RESPONSES,
    /** Legacy-unicast mDNS queries (source port other than 5353). */
    MDNS_LEGACY_QUERIES,
    /** mDNS multicast answers withheld because the same record was multicast less than a second ago. */
    MDNS_RATE_LIMITED,
    /** mDNS answers left out because the querier listed them as known answers (RFC 6762 §7.1). */
    MDNS_KNOWN_ANSWERS_SUPPRESSED,
    /** mDNS goodbye records sent after a name stopped resolving. */
    MDNS_GOODBYES,
    /** Answers served from the name store without asking the resolver. */
    CACHE_HITS,
    /** Table queries started through the resolver (first asker of a name, or a refresh). */
    RESOLVES_STARTED,
    /** Queries that joined a table query already in flight for the same name. */
    RESOLVES_SHARED,
    /** Table queries that did not complete within the resolve timeout. */
    RESOLVE_TIMEOUTS,
    /** Queries dropped because too many were waiting for table queries. */
    OVERLOAD_DROPPED,
    /** Out-of-zone queries relayed to an upstream. */
    FORWARDED,
    /** Upstream answers relayed back to the client. */
    FORWARD_RELAYED,
    /** Upstream attempts that timed out. */
    FORWARD_TIMEOUTS,
    /**
     * Packets on an upstream socket that are not a well-formed DNS response (or came after their
     * attempt ended); dropped.
     */
    FORWARD_UNMATCHED,
    /** Packets on an upstream socket from an address or port other than the upstream asked; dropped. */
    FORWARD_WRONG_SOURCE,
    /** Upstream responses with an id other than the one sent (e.g. spoofing guesses); dropped. */
    FORWARD_WRONG_ID,
    /** Upstream responses with the right id but another question (name, type or class); dropped. */
    FORWARD_WRONG_QUESTION,
    /** Truncated (TC) upstream answers retried over TCP. */
    FORWARD_TCP_RETRIES,
    /** Upstream attempts that failed at the socket (bind, connect, send, connection closed early). */
    FORWARD_ERRORS,
    /** Out-of-zone queries answered SERVFAIL at once because too many were already being forwarded. */
    FORWARD_OVERLOAD,
    /** TCP connections accepted. */
    TCP_CONNECTIONS,
    /** TCP connections closed for exceeding limits (count, idle time, frame size). */
    TCP_REJECTED,
    /** Pushed route changes applied (record updates and removals). */
    PUSHES_APPLIED
  }

  private static final Counter[] ALL = Counter.values();
  private static final String[] LABELS = new String[ALL.length];
  private static final Stat RESPONSES = Stat.counter("semnet.dns.responses", "Unicast DNS answers by response code", "rcode");
  private static final Stat QUERIES = Stat.counter("semnet.dns.queries", "DNS queries received, by transport (udp, tcp; mdns packets)",
      "transport");
  private static final Stat EVENTS = Stat.counter("semnet.dns.events", "Everything the name responder counts, by event", "event");

  static {
    for (Counter c : ALL) {
      LABELS[c.ordinal()] = c.name().toLowerCase(java.util.Locale.ROOT);
    }
  }
  private final ResponderCounts values;

  ResponderCounters(ResponderCounts values) {
    this.values = values;
  }

  public long get(Counter c) {
    return values.get(c);
  }

  /** A consistent-enough copy of all counters (each value read once). */
  public Map<Counter, Long> snapshot() {
    Map<Counter, Long> m = new EnumMap<>(Counter.class);
    for (Counter c : ALL) {
      m.put(c, values.get(c));
    }
    return m;
  }

  @Override
  public void reportTo(StatsVisitor v) {
    v.value(RESPONSES, "NOERROR", get(Counter.ANSWERED) + get(Counter.NODATA));
    v.value(RESPONSES, "NXDOMAIN", get(Counter.NXDOMAIN));
    v.value(RESPONSES, "FORMERR", get(Counter.FORMERR));
    v.value(RESPONSES, "REFUSED", get(Counter.REFUSED));
    v.value(RESPONSES, "NOTIMP", get(Counter.NOTIMP));
    v.value(RESPONSES, "SERVFAIL", get(Counter.SERVFAIL));
    v.value(QUERIES, "udp", get(Counter.UNICAST_UDP_QUERIES));
    v.value(QUERIES, "tcp", get(Counter.UNICAST_TCP_QUERIES));
    v.value(QUERIES, "mdns", get(Counter.MDNS_PACKETS));
    for (Counter c : ALL) {
      v.value(EVENTS, LABELS[c.ordinal()], values.get(c));
    }
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("ResponderCounters{");
    for (Counter c : ALL) {
      long v = values.get(c);
      if (v != 0) {
        sb.append(c.name().toLowerCase(java.util.Locale.ROOT)).append('=').append(v).append(' ');
      }
    }
    return sb.append('}').toString();
  }
}
