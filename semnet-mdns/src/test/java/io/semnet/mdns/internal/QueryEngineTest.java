package io.semnet.mdns.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.semnet.core.address.Addresses;
import io.semnet.core.service.ServiceId;
import io.semnet.mdns.ResponderCounters.Counter;
import io.semnet.mdns.testing.FakeResolver;
import io.semnet.mdns.testing.Policies;
import io.semnet.mdns.testing.Wire;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class QueryEngineTest {
  static final ServiceId API = ServiceId.of("shop", "prod", "api", "backend");
  static final String INSTANCE0 = "shop.prod.api.backend.0.none.local";
  static final String SERVICE_RR = "shop.prod.api.backend.any.rr.local";
  static final InetSocketAddress MDNS_PEER = new InetSocketAddress("10.9.0.7", 5353);
  static final InetSocketAddress LEGACY_PEER = new InetSocketAddress("10.9.0.7", 40000);

  EngineHarness h;

  @BeforeEach
  void setUp() {
    h = new EngineHarness(Policies.of("rr", "closest"), null, 500);
    h.resolver.put(FakeResolver.record(API, 1, "172.30.0.10", "fdff::10", "172.30.1.1", "fdff::1:1", "172.30.1.2", null));
  }

  @AfterEach
  void tearDown() {
    h.close();
  }

  static List<String> addresses(DatagramDnsResponse r, DnsRecordType type) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < r.count(DnsSection.ANSWER); i++) {
      DnsRecord rec = r.recordAt(DnsSection.ANSWER, i);
      if (rec.type().equals(type)) {
        out.add(Addresses.format(Addresses.byAddress(ByteBufUtil.getBytes(((DnsRawRecord) rec).content()))));
      }
    }
    return out;
  }

  static DatagramDnsResponse decode(byte[] b) {
    assertNotNull(b, "expected a reply");
    return Wire.decode(b);
  }

  @Test
  void instanceNameAnswersItsInstanceIpsWithIdQuestionAndTtl() {
    DatagramDnsResponse a = decode(h.ask(Wire.query(0x1234, INSTANCE0, 1)));
    assertEquals(0x1234, a.id());
    assertEquals(DnsResponseCode.NOERROR, a.code());
    assertTrue(a.isAuthoritativeAnswer());
    assertEquals(INSTANCE0 + ".", a.recordAt(DnsSection.QUESTION).name());
    assertEquals(List.of("172.30.1.1"), addresses(a, DnsRecordType.A));
    assertEquals(30, a.recordAt(DnsSection.ANSWER).timeToLive());
    assertEquals(INSTANCE0 + ".", a.recordAt(DnsSection.ANSWER).name());
    a.release();
    DatagramDnsResponse aaaa = decode(h.ask(Wire.query(7, INSTANCE0, 28)));
    assertEquals(List.of("fdff::1:1"), addresses(aaaa, DnsRecordType.AAAA));
    aaaa.release();
    DatagramDnsResponse any = decode(h.ask(Wire.query(8, INSTANCE0, 255)));
    assertEquals(List.of("172.30.1.1"), addresses(any, DnsRecordType.A));
    assertEquals(List.of("fdff::1:1"), addresses(any, DnsRecordType.AAAA));
    any.release();
    assertEquals(1, h.resolver.calls(INSTANCE0), "one table query, then the name store answers");
    assertTrue(h.counters.get(Counter.CACHE_HITS) >= 2);
  }

  @Test
  void serviceNameAnswersServiceIpsAndMixedCaseIsEchoed() {
    String mixed = "Shop.PROD.api.backend.ANY.rr.Local";
    DatagramDnsResponse a = decode(h.ask(Wire.query(1, mixed, 1)));
    assertEquals(List.of("172.30.0.10"), addresses(a, DnsRecordType.A));
    assertEquals(mixed + ".", a.recordAt(DnsSection.QUESTION).name());
    a.release();
    DatagramDnsResponse aaaa = decode(h.ask(Wire.query(2, SERVICE_RR, 28)));
    assertEquals(List.of("fdff::10"), addresses(aaaa, DnsRecordType.AAAA));
    aaaa.release();
  }

  @Test
  void instanceWithoutIpv6AnswersAaaaWithNoData() {
    DatagramDnsResponse r = decode(h.ask(Wire.query(3, "shop.prod.api.backend.1.none.local", 28)));
    assertEquals(DnsResponseCode.NOERROR, r.code());
    assertEquals(0, r.count(DnsSection.ANSWER));
    assertEquals(0, r.count(DnsSection.AUTHORITY), "never an SOA");
    r.release();
  }

  @Test
  void impossibleAndUnknownPolicyNamesAreNxdomainWithoutATableQuery() {
    for (String name : new String[] {
        "shop.prod.api.backend.0.rr.local", "shop.prod.api.backend.any.none.local",
        "x.shop.prod.api.backend.0.none.local", "shop.prod.api.backend.any.nosuchpolicy.local",
        "shop.prod.api.backend.01.none.local", "sh_p.prod.api.backend.0.none.local"}) {
      DatagramDnsResponse r = decode(h.ask(Wire.query(9, name, 1)));
      assertEquals(DnsResponseCode.NXDOMAIN, r.code(), name);
      assertEquals(0, r.count(DnsSection.AUTHORITY), name);
      r.release();
    }
    assertEquals(0, h.resolver.totalCalls());
    assertEquals(6, h.counters.get(Counter.INVALID_NAMES));
  }

  /** RFC 8020: NXDOMAIN for a name would deny every name below it, so ancestors are NODATA. */
  @Test
  void ancestorsOfPossibleNamesAreNodataWithoutATableQuery() {
    String[] ancestors = {
        "prod.api.backend.0.none.local", "api.backend.0.none.local", "backend.0.none.local", "0.none.local",
        "none.local", "Prod.API.backend.ANY.rr.local", "api.backend.any.rr.local", "backend.any.closest.local",
        "any.rr.local", "rr.local", "prod.any.rr.local", "tum.hello.prod.any.rr.local"};
    for (String name : ancestors) {
      for (int type : new int[] {1, 28, 255, 6}) {
        DatagramDnsResponse r = decode(h.ask(Wire.query(11, name, type)));
        assertEquals(DnsResponseCode.NOERROR, r.code(), name);
        assertTrue(r.isAuthoritativeAnswer(), name);
        assertEquals(name + ".", r.recordAt(DnsSection.QUESTION).name(), name);
        assertEquals(0, r.count(DnsSection.ANSWER), name);
        assertEquals(0, r.count(DnsSection.AUTHORITY), name + ": no SOA, as at the apex");
        r.release();
      }
    }
    assertEquals(0, h.resolver.totalCalls());
    assertEquals(ancestors.length * 4, h.counters.get(Counter.ANCESTOR_NODATA));
    assertEquals(0, h.counters.get(Counter.NXDOMAIN));
  }

  @Test
  void suffixesNoValidNameCanEndInStayNxdomain() {
    for (String name : new String[] {
        "any.nosuchpolicy.local", "nosuchpolicy.local", "any.local", "any.none.local", "0.rr.local",
        "01.none.local", "x.none.local", "b_d.any.rr.local", "printer.local", "a.b.c.d.e.f.g.local"}) {
      DatagramDnsResponse r = decode(h.ask(Wire.query(12, name, 1)));
      assertEquals(DnsResponseCode.NXDOMAIN, r.code(), name);
      r.release();
    }
    assertEquals(0, h.counters.get(Counter.ANCESTOR_NODATA));
    assertEquals(0, h.resolver.totalCalls());
  }

  @Test
  void mdnsIsSilentForAncestors() {
    for (String name : new String[] {"prod.any.rr.local", "0.none.local", "rr.local", "api.backend.0.none.local"}) {
      h.mdns(Wire.query(0, 0, name, 1, 1), MDNS_PEER);
      h.mdns(Wire.query(0, 0, name, 255, 0x8001), MDNS_PEER);
      h.mdns(Wire.query(0x99, 0, name, 1, 1), LEGACY_PEER);
    }
    assertNull(h.next(500), "mDNS answers only names it owns (RFC 6762 §6)");
    assertEquals(12, h.counters.get(Counter.MDNS_NOT_OWNED));
    assertEquals(0, h.counters.get(Counter.ANCESTOR_NODATA));
  }

  @Test
  void unknownServiceIsNxdomainAndRememberedBriefly() {
    String name = "shop.prod.nope.backend.0.none.local";
    for (int i = 0; i < 3; i++) {
      DatagramDnsResponse r = decode(h.ask(Wire.query(i, name, 1)));
      assertEquals(DnsResponseCode.NXDOMAIN, r.code());
      r.release();
    }
    assertEquals(1, h.resolver.calls(name));
  }

  @Test
  void unavailableResolverGivesServfailAndIsNotCached() {
    h.resolver.unavailable(true);
    DatagramDnsResponse r = decode(h.ask(Wire.query(1, INSTANCE0, 1)));
    assertEquals(DnsResponseCode.SERVFAIL, r.code());
    r.release();
    h.resolver.unavailable(false);
    DatagramDnsResponse ok = decode(h.ask(Wire.query(2, INSTANCE0, 1)));
    assertEquals(List.of("172.30.1.1"), addresses(ok, DnsRecordType.A));
    ok.release();
  }

  @Test
  void zoneApexHasNoSoaOrAnythingElse() {
    for (int type : new int[] {6, 1, 255, 2}) {
      DatagramDnsResponse r = decode(h.ask(Wire.query(5, "local", type)));
      assertEquals(DnsResponseCode.NOERROR, r.code());
      assertEquals(0, r.count(DnsSection.ANSWER));
      assertEquals(0, r.count(DnsSection.AUTHORITY));
      r.release();
    }
    DatagramDnsResponse soa = decode(h.ask(Wire.query(5, INSTANCE0, 6)));
    assertEquals(0, soa.count(DnsSection.ANSWER) + soa.count(DnsSection.AUTHORITY));
    soa.release();
  }

  @Test
  void outOfZoneIsRefusedWithoutForwarder() {
    DatagramDnsResponse r = decode(h.ask(Wire.query(5, "example.com", 1)));
    assertEquals(DnsResponseCode.REFUSED, r.code());
    r.release();
  }

  @Test
  void offLinkSourceIsRefused() {
    DatagramDnsResponse r = decode(h.unicast(Wire.query(5, INSTANCE0, 1), false));
    assertEquals(DnsResponseCode.REFUSED, r.code());
    r.release();
    assertEquals(1, h.counters.get(Counter.OFF_LINK));
    assertEquals(0, h.resolver.totalCalls());
  }

  @Test
  void malformedQueriesAreFormerrOrDroppedAndCounted() {
    assertNull(h.unicast(new byte[] {1, 2, 3}, true), "no header: nothing to answer");
    // A response is never answered (no loops between responders).
    byte[] resp = Wire.query(1, INSTANCE0, 1);
    resp[2] |= (byte) 0x80;
    assertNull(h.unicast(resp, true));
    // A compression pointer to itself.
    byte[] loop = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, (byte) 0xc0, 12, 0, 1, 0, 1};
    assertRcode(loop, DnsResponseCode.FORMERR);
    // Truncated in the middle of a label.
    byte[] truncated = Wire.query(1, INSTANCE0, 1);
    assertRcode(java.util.Arrays.copyOf(truncated, 20), DnsResponseCode.FORMERR);
    // Two questions.
    byte[] two = Wire.query(1, INSTANCE0, 1);
    two[5] = 2;
    assertRcode(two, DnsResponseCode.FORMERR);
    // Opcode STATUS.
    assertRcode(Wire.query(1, 0x1000, INSTANCE0, 1, 1), DnsResponseCode.NOTIMP);
    // Oversized.
    byte[] big = java.util.Arrays.copyOf(Wire.query(1, INSTANCE0, 1), 600);
    assertRcode(big, DnsResponseCode.FORMERR);
    assertEquals(1, h.counters.get(Counter.OVERSIZED));
    assertEquals(1, h.counters.get(Counter.MALFORMED_DROPPED));
    assertEquals(1, h.counters.get(Counter.RESPONSES_DROPPED));
    assertEquals(4, h.counters.get(Counter.FORMERR));
    assertEquals(0, h.resolver.totalCalls());
  }

  private void assertRcode(byte[] q, DnsResponseCode code) {
    byte[] reply = h.unicast(q, true);
    assertNotNull(reply);
    assertTrue(reply.length <= Math.max(q.length, 12), "an error is never larger than its query");
    DatagramDnsResponse r = decode(reply);
    assertEquals(code, r.code());
    r.release();
  }

  @Test
  void repliesAreNeverMuchLargerThanQueries() {
    for (String name : new String[] {INSTANCE0, SERVICE_RR, "x.local", "a.b.c.d.0.rr.local"}) {
      for (int type : new int[] {1, 28, 255, 16}) {
        byte[] q = Wire.query(1, name, type);
        byte[] r = h.ask(q);
        assertTrue(r.length <= q.length + 44, name + " type " + type + ": " + r.length + " vs " + q.length);
      }
    }
  }

  @Test
  void concurrentQueriesShareOneTableQueryAndASlowOneBlocksNobody() throws Exception {
    h.close();
    h = new EngineHarness(Policies.of("rr"), null, 3000);
    h.resolver.put(FakeResolver.record(API, 1, "172.30.0.10", "fdff::10", "172.30.1.1", "fdff::1:1"));
    ServiceId slow = ServiceId.of("slow", "prod", "db", "backend");
    h.resolver.put(FakeResolver.record(slow, 1, "172.30.0.20", "fdff::20", "172.30.2.1", null));
    h.resolver.delay(slow, 1200); // below the 3 s resolve timeout
    String slowName = "slow.prod.db.backend.0.none.local";
    for (int i = 0; i < 5; i++) {
      assertNull(h.unicast(Wire.query(100 + i, slowName, 1), true));
    }
    long t0 = System.nanoTime();
    assertNull(h.unicast(Wire.query(200, INSTANCE0, 1), true));
    EngineHarness.Sent first = h.next(2000);
    long fastMillis = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(200, decodeId(first.bytes()), "the fast name is answered first");
    assertTrue(fastMillis < 1000, "fast answer took " + fastMillis + " ms");
    List<Integer> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      EngineHarness.Sent s = h.next(3000);
      assertNotNull(s);
      DatagramDnsResponse r = decode(s.bytes());
      assertEquals(List.of("172.30.2.1"), addresses(r, DnsRecordType.A));
      ids.add(r.id());
      r.release();
    }
    assertEquals(List.of(100, 101, 102, 103, 104), ids.stream().sorted().toList());
    assertEquals(1, h.resolver.calls(slowName), "concurrent queries share one table query");
    assertEquals(4, h.counters.get(Counter.RESOLVES_SHARED));
  }

  @Test
  void waitersForOneNameAreBounded() throws Exception {
    ServiceId slow = ServiceId.of("slow", "prod", "db", "backend");
    h.resolver.put(FakeResolver.record(slow, 1, "172.30.0.20", "fdff::20", "172.30.2.1", null));
    h.resolver.delay(slow, 300);
    String slowName = "slow.prod.db.backend.0.none.local";
    for (int i = 0; i < 70; i++) {
      assertNull(h.unicast(Wire.query(i, slowName, 1), true));
    }
    assertEquals(6, h.counters.get(Counter.OVERLOAD_DROPPED));
    int answers = 0;
    while (h.next(1000) != null) {
      answers++;
    }
    assertEquals(64, answers);
    assertEquals(1, h.resolver.calls(slowName));
  }

  static int decodeId(byte[] b) {
    return ((b[0] & 0xff) << 8) | (b[1] & 0xff);
  }

  @Test
  void timeoutGivesServfailAndTheLateAnswerStillFillsTheStore() throws Exception {
    ServiceId slow = ServiceId.of("slow", "prod", "db", "backend");
    h.resolver.put(FakeResolver.record(slow, 1, "172.30.0.20", "fdff::20", "172.30.2.1", null));
    h.resolver.delay(slow, 900); // resolve timeout is 500 ms
    String slowName = "slow.prod.db.backend.0.none.local";
    DatagramDnsResponse r = decode(h.ask(Wire.query(1, slowName, 1)));
    assertEquals(DnsResponseCode.SERVFAIL, r.code());
    r.release();
    Thread.sleep(700);
    h.drain();
    DatagramDnsResponse later = decode(h.unicast(Wire.query(2, slowName, 1), true));
    assertEquals(List.of("172.30.2.1"), addresses(later, DnsRecordType.A));
    later.release();
    assertEquals(1, h.resolver.calls(slowName));
    assertEquals(1, h.counters.get(Counter.RESOLVE_TIMEOUTS));
  }

  @Test
  void pushedRemovalTakesEffectAtOnce() throws Exception {
    DatagramDnsResponse r = decode(h.ask(Wire.query(1, INSTANCE0, 1)));
    assertEquals(DnsResponseCode.NOERROR, r.code());
    r.release();
    h.resolver.remove(API);
    awaitStoreSize(0);
    DatagramDnsResponse gone = decode(h.ask(Wire.query(2, INSTANCE0, 1)));
    assertEquals(DnsResponseCode.NXDOMAIN, gone.code());
    gone.release();
  }

  @Test
  void pushedUpdateRemovingAnInstanceAppliesWithoutATableQuery() throws Exception {
    String one = "shop.prod.api.backend.1.none.local";
    decode(h.ask(Wire.query(1, one, 1))).release();
    assertEquals(1, h.resolver.calls(one));
    h.resolver.update(FakeResolver.record(API, 2, "172.30.0.10", "fdff::10", "172.30.1.1", "fdff::1:1"));
    for (int i = 0; i < 50 && h.counters.get(Counter.PUSHES_APPLIED) == 0; i++) {
      Thread.sleep(20);
    }
    h.drain();
    DatagramDnsResponse r = decode(h.unicast(Wire.query(2, one, 1), true));
    assertEquals(DnsResponseCode.NXDOMAIN, r.code());
    r.release();
    assertEquals(1, h.resolver.calls(one), "the pushed record answered it");
  }

  @Test
  void lostPushIsCaughtByTheNegativeOrRefreshPath() throws Exception {
    // A not-found answer expires, so a service deployed later starts resolving.
    ServiceId later = ServiceId.of("late", "prod", "x", "y");
    String name = "late.prod.x.y.0.none.local";
    DatagramDnsResponse r = decode(h.ask(Wire.query(1, name, 1)));
    assertEquals(DnsResponseCode.NXDOMAIN, r.code());
    r.release();
    assertEquals(1, h.resolver.calls(name));
    h.resolver.put(FakeResolver.record(later, 1, "172.30.0.30", "fdff::30", "172.30.3.1", null));
    // negativeTtl is 5 s in the harness; not waiting here keeps the NXDOMAIN.
    DatagramDnsResponse still = decode(h.ask(Wire.query(2, name, 1)));
    assertEquals(DnsResponseCode.NXDOMAIN, still.code());
    still.release();
  }

  @Test
  void withoutAPushARemovalIsNoticedWithinTheRefreshInterval() throws Exception {
    h.close();
    h = new EngineHarness(Policies.of("rr"), null, 3000, java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(200));
    h.resolver.put(FakeResolver.record(API, 1, "172.30.0.10", "fdff::10", "172.30.1.1", "fdff::1:1"));
    decode(h.ask(Wire.query(1, INSTANCE0, 1))).release();
    h.resolver.removeSilently(API);
    h.resolver.delay(API, 800); // so the re-validation is still in flight when the next query comes
    Thread.sleep(250);
    // Past the refresh interval: still answered from the store while it re-validates...
    DatagramDnsResponse stale = decode(h.unicast(Wire.query(2, INSTANCE0, 1), true));
    assertEquals(DnsResponseCode.NOERROR, stale.code());
    stale.release();
    Thread.sleep(1200);
    h.drain();
    // ...and once the resolver said not found, the name is gone.
    DatagramDnsResponse gone = decode(h.unicast(Wire.query(3, INSTANCE0, 1), true));
    assertEquals(DnsResponseCode.NXDOMAIN, gone.code());
    gone.release();
    assertEquals(2, h.resolver.calls(INSTANCE0));
  }

  @Test
  void anUnreachableControlPlaneKeepsKnownNamesResolving() throws Exception {
    h.close();
    h = new EngineHarness(Policies.of("rr"), null, 500, java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(100));
    h.resolver.put(FakeResolver.record(API, 1, "172.30.0.10", "fdff::10", "172.30.1.1", "fdff::1:1"));
    decode(h.ask(Wire.query(1, INSTANCE0, 1))).release();
    h.resolver.unavailable(true);
    for (int i = 0; i < 3; i++) {
      Thread.sleep(150);
      h.drain();
      DatagramDnsResponse r = decode(h.unicast(Wire.query(2 + i, INSTANCE0, 1), true));
      assertEquals(List.of("172.30.1.1"), addresses(r, DnsRecordType.A));
      r.release();
    }
    assertTrue(h.resolver.calls(INSTANCE0) >= 3, "re-validation was attempted");
  }

  private void awaitStoreSize(int n) throws InterruptedException {
    for (int i = 0; i < 100 && h.on(() -> h.engine.storeSize()) != n; i++) {
      Thread.sleep(10);
    }
    assertEquals(n, (int) h.on(() -> h.engine.storeSize()));
  }

  // ------------------------------------------------------------------ mDNS

  @Test
  void legacyUnicastRepeatsIdAndQuestionWithShortTtlAndNoCacheFlush() {
    decode(h.ask(Wire.query(1, INSTANCE0, 1))).release(); // warm the store
    h.mdns(Wire.query(0x4242, 0, INSTANCE0, 1, 1), LEGACY_PEER);
    EngineHarness.Sent s = h.next(1000);
    assertNotNull(s);
    assertEquals(LEGACY_PEER, s.dest());
    DatagramDnsResponse r = decode(s.bytes());
    assertEquals(0x4242, r.id());
    assertEquals(1, r.count(DnsSection.QUESTION));
    assertEquals(INSTANCE0 + ".", r.recordAt(DnsSection.QUESTION).name());
    DnsRecord a = r.recordAt(DnsSection.ANSWER);
    assertEquals(10, a.timeToLive());
    assertEquals(1, a.dnsClass(), "cache-flush bit cleared");
    assertEquals(List.of("172.30.1.1"), addresses(r, DnsRecordType.A));
    r.release();
    assertEquals(1, h.counters.get(Counter.MDNS_LEGACY_QUERIES));
  }

  @Test
  void legacyUnicastForAnUnknownNameResolvesThenAnswers() {
    h.mdns(Wire.query(0x77, 0, SERVICE_RR, 28, 1), LEGACY_PEER);
    EngineHarness.Sent s = h.next(2000);
    assertNotNull(s);
    DatagramDnsResponse r = decode(s.bytes());
    assertEquals(0x77, r.id());
    assertEquals(List.of("fdff::10"), addresses(r, DnsRecordType.AAAA));
    r.release();
  }

  @Test
  void multicastQueryGetsAMulticastAnswerWithCacheFlushAndNoQuestion() {
    h.mdns(Wire.query(0, 0, INSTANCE0, 1, 1), MDNS_PEER); // first: resolves, then answers
    EngineHarness.Sent s = h.next(2000);
    assertNotNull(s);
    assertEquals(EngineHarness.GROUP, s.dest());
    DatagramDnsResponse r = decode(s.bytes());
    assertEquals(0, r.id());
    assertEquals(0, r.count(DnsSection.QUESTION));
    assertEquals(0x8001, r.recordAt(DnsSection.ANSWER).dnsClass());
    assertEquals(30, r.recordAt(DnsSection.ANSWER).timeToLive());
    assertEquals(List.of("172.30.1.1"), addresses(r, DnsRecordType.A));
    r.release();
    // Asked again at once: the record was multicast less than a second ago.
    h.mdns(Wire.query(0, 0, INSTANCE0, 1, 1), MDNS_PEER);
    assertNull(h.next(200));
    assertEquals(1, h.counters.get(Counter.MDNS_RATE_LIMITED));
  }

  private static byte[] withKnownAnswer(String name, int type, byte[] rdata, long ttl) {
    byte[] q = Wire.query(0, 0, name, type, 0x8001);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(q, 0, q.length);
    out.write(0xc0);
    out.write(12); // owner: the question's name
    Wire.short16(out, type);
    Wire.short16(out, 0x8001);
    Wire.short16(out, (int) (ttl >>> 16));
    Wire.short16(out, (int) ttl);
    Wire.short16(out, rdata.length);
    out.write(rdata, 0, rdata.length);
    byte[] b = out.toByteArray();
    b[7] = 1; // ANCOUNT
    return b;
  }

  @Test
  void knownAnswersWithEnoughTtlLeftAreNotRepeated() {
    decode(h.ask(Wire.query(1, INSTANCE0, 1))).release();
    byte[] addr = Addresses.parseLiteral("172.30.1.1").getAddress();
    h.mdns(withKnownAnswer(INSTANCE0, 1, addr, 25), MDNS_PEER);
    assertNull(h.next(200), "the querier already has it");
    assertEquals(1, h.counters.get(Counter.MDNS_KNOWN_ANSWERS_SUPPRESSED));
    h.mdns(withKnownAnswer(INSTANCE0, 1, addr, 10), MDNS_PEER); // less than half the TTL left
    assertNotNull(h.next(1000));
    h.mdns(withKnownAnswer(INSTANCE0, 1, Addresses.parseLiteral("172.30.9.9").getAddress(), 30), MDNS_PEER);
    assertNotNull(h.next(1000), "a different address is no known answer");
  }

  @Test
  void unicastResponseBitGetsAUnicastAnswer() {
    decode(h.ask(Wire.query(1, INSTANCE0, 1))).release();
    h.mdns(Wire.query(0, 0, INSTANCE0, 28, 0x8001), MDNS_PEER);
    EngineHarness.Sent s = h.next(1000);
    assertNotNull(s);
    assertEquals(MDNS_PEER, s.dest());
    DatagramDnsResponse r = decode(s.bytes());
    assertEquals(List.of("fdff::1:1"), addresses(r, DnsRecordType.AAAA));
    r.release();
  }

  @Test
  void multicastIsSilentForNamesNotOwnedAndForGarbage() {
    h.mdns(Wire.query(0, 0, "shop.prod.nope.backend.0.none.local", 1, 1), MDNS_PEER);
    h.mdns(Wire.query(0, 0, "shop.prod.api.backend.0.rr.local", 1, 1), MDNS_PEER);
    h.mdns(Wire.query(0, 0, "printer.local", 1, 1), MDNS_PEER);
    h.mdns(Wire.query(0, 0, "example.com", 1, 1), MDNS_PEER);
    h.mdns(Wire.query(0, 0, "shop.prod.api.backend.1.none.local", 28, 1), LEGACY_PEER); // no IPv6
    h.mdns(new byte[] {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, (byte) 0xc0, 12, 0, 1, 0, 1}, MDNS_PEER);
    h.mdns(new byte[] {1, 2}, MDNS_PEER);
    assertNull(h.next(1200), "nothing is sent for names the node does not own");
    assertTrue(h.counters.get(Counter.MDNS_NOT_OWNED) >= 4);
    assertEquals(2, h.counters.get(Counter.MDNS_DROPPED));
  }

  @Test
  void mdnsFromOffLinkOrOversizedIsDroppedSilently() {
    decode(h.ask(Wire.query(1, INSTANCE0, 1))).release();
    h.on(() -> {
      h.engine.handleMdns(Wire.buf(Wire.query(0, 0, INSTANCE0, 1, 1)), MDNS_PEER, true, false, h.output);
      h.engine.handleMdns(Wire.buf(java.util.Arrays.copyOf(Wire.query(0, 0, INSTANCE0, 1, 1), 9001)), MDNS_PEER, true, true, h.output);
      return null;
    });
    assertNull(h.next(300));
    assertEquals(1, h.counters.get(Counter.OFF_LINK));
    assertEquals(1, h.counters.get(Counter.OVERSIZED));
  }

  @Test
  void multipleQuestionsInOneMdnsQueryAreAnsweredTogether() {
    decode(h.ask(Wire.query(1, INSTANCE0, 1))).release();
    decode(h.ask(Wire.query(1, SERVICE_RR, 1))).release();
    ByteArrayOutputStream q = new ByteArrayOutputStream();
    Wire.short16(q, 0);
    Wire.short16(q, 0);
    Wire.short16(q, 3);
    Wire.short16(q, 0);
    Wire.short16(q, 0);
    Wire.short16(q, 0);
    Wire.name(q, INSTANCE0);
    Wire.short16(q, 1);
    Wire.short16(q, 0x8001);
    Wire.name(q, "printer.local");
    Wire.short16(q, 1);
    Wire.short16(q, 1);
    // The third question compresses "backend.any.rr.local" onto nothing earlier: write it in full.
    Wire.name(q, SERVICE_RR);
    Wire.short16(q, 255);
    Wire.short16(q, 0x8001);
    h.mdns(q.toByteArray(), MDNS_PEER);
    EngineHarness.Sent s = h.next(1000);
    assertNotNull(s);
    DatagramDnsResponse r = decode(s.bytes());
    assertEquals(List.of("172.30.1.1", "172.30.0.10"), addresses(r, DnsRecordType.A));
    assertEquals(List.of("fdff::10"), addresses(r, DnsRecordType.AAAA));
    r.release();
    assertNull(h.next(200));
  }

  @Test
  void removalSendsGoodbyesForMulticastRecords() throws Exception {
    h.mdns(Wire.query(0, 0, INSTANCE0, 1, 1), MDNS_PEER);
    assertNotNull(h.next(2000));
    h.resolver.remove(API);
    EngineHarness.Sent bye = h.next(2000);
    assertNotNull(bye);
    assertEquals(EngineHarness.GROUP, bye.dest());
    DatagramDnsResponse r = decode(bye.bytes());
    assertEquals(0, r.recordAt(DnsSection.ANSWER).timeToLive());
    assertEquals(List.of("172.30.1.1"), addresses(r, DnsRecordType.A));
    r.release();
    assertFalse(h.counters.get(Counter.MDNS_GOODBYES) == 0);
  }
}
