package io.semnet.mdns.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.semnet.core.service.ServiceId;
import io.semnet.mdns.testing.FakeResolver;
import io.semnet.mdns.testing.Policies;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes the query decoder and everything behind it with arbitrary bytes, as unicast DNS and as
 * mDNS (multicast and legacy). Must never throw, never hang, and never produce a unicast reply much
 * larger than the query. A normal test run replays the saved inputs; {@code JAZZER_FUZZ=1} fuzzes.
 */
class QueryDecoderFuzzTest {
  private static EngineHarness h;
  private static final InetSocketAddress PEER = new InetSocketAddress("10.9.0.7", 5353);
  private static final InetSocketAddress LEGACY = new InetSocketAddress("10.9.0.7", 4444);

  @BeforeAll
  static void setUp() {
    h = new EngineHarness(Policies.of("rr"), null, 200);
    h.resolver.put(FakeResolver.record(ServiceId.of("a", "b", "c", "d"), 1, "172.30.0.1", "fdff::1", "172.30.1.1", "fdff::1:1"));
  }

  @AfterAll
  static void tearDown() {
    h.close();
  }

  @FuzzTest(maxDuration = "60s")
  void parseAndAnswer(byte[] data) {
    ParsedQuery q = new ParsedQuery();
    ByteBuf buf = Unpooled.wrappedBuffer(data);
    int r = QueryParser.parse(buf, q);
    assertTrue(r >= QueryParser.OK && r <= QueryParser.BAD_POINTER);
    assertTrue(buf.readerIndex() == 0, "parsing must not consume the packet");
    if (r == QueryParser.OK) {
      for (int i = 0; i < q.decodedQuestions(); i++) {
        assertTrue(q.nameLength(i) <= ParsedQuery.MAX_NAME);
        q.nameString(i);
      }
    }
    byte[] reply = h.unicast(data, true);
    if (reply != null) {
      assertTrue(reply.length <= data.length + 64, "reply " + reply.length + " for a query of " + data.length);
    }
    h.mdns(data, PEER);
    h.mdns(data, LEGACY);
    h.sent.clear();
  }
}
