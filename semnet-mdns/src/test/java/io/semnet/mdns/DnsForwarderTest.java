package io.semnet.mdns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.semnet.core.address.Addresses;
import io.semnet.mdns.ResponderCounters.Counter;
import io.semnet.mdns.testing.FakeResolver;
import io.semnet.mdns.testing.FakeUpstream;
import io.semnet.mdns.testing.Policies;
import io.semnet.mdns.testing.Wire;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The forwarder under attack, against a scripted upstream on loopback: forged answers (wrong id,
 * wrong question, wrong source port), a spoofer spraying guesses at the port the query left from,
 * truncated answers that must be fetched over TCP, and a flood of queries against the bound.
 */
class DnsForwarderTest {
  static final String NAME = "www.example.org";

  FakeResolver resolver;
  FakeUpstream upstream;
  SemanticNameResponder fwd;

  @BeforeEach
  void setUp() {
    resolver = new FakeResolver();
  }

  @AfterEach
  void tearDown() throws IOException {
    if (fwd != null) {
      fwd.close();
    }
    if (upstream != null) {
      upstream.close();
    }
    resolver.close();
  }

  private void start(FakeUpstream.Behaviour behaviour, Duration timeout, int maxForwarded) throws Exception {
    upstream = new FakeUpstream(behaviour);
    fwd = SemanticNameResponder.builder()
        .bridgeAddresses("127.0.0.1/8").mdns(false).dnsPort(0)
        .upstreams(upstream.spec())
        .forwardTimeout(timeout)
        .maxForwardedQueries(maxForwarded)
        .resolver(resolver).policies(Policies.of("rr")).build();
    fwd.start(null);
  }

  private byte[] ask(DatagramSocket client, byte[] query) throws IOException {
    client.send(new DatagramPacket(query, query.length, fwd.boundAddresses().get(0)));
    return receive(client);
  }

  private static byte[] receive(DatagramSocket client) throws IOException {
    DatagramPacket in = new DatagramPacket(new byte[65535], 65535);
    try {
      client.receive(in);
    } catch (SocketTimeoutException e) {
      return null;
    }
    return Arrays.copyOf(in.getData(), in.getLength());
  }

  private byte[] askTcp(byte[] query) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(fwd.boundAddresses().get(0), 2000);
      s.setSoTimeout(5000);
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      out.writeShort(query.length);
      out.write(query);
      out.flush();
      DataInputStream in = new DataInputStream(s.getInputStream());
      byte[] reply = new byte[in.readUnsignedShort()];
      in.readFully(reply);
      return reply;
    }
  }

  private static DatagramSocket client() throws IOException {
    DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
    s.setSoTimeout(3000);
    return s;
  }

  private static List<String> addresses(byte[] reply) {
    assertNotNull(reply, "expected a reply");
    DatagramDnsResponse r = Wire.decode(reply);
    try {
      List<String> out = new ArrayList<>();
      for (int i = 0; i < r.count(DnsSection.ANSWER); i++) {
        DnsRawRecord rec = r.recordAt(DnsSection.ANSWER, i);
        out.add(Addresses.format(Addresses.byAddress(ByteBufUtil.getBytes(rec.content()))));
      }
      return out;
    } finally {
      r.release();
    }
  }

  private static int id(byte[] msg) {
    return ((msg[0] & 0xff) << 8) | (msg[1] & 0xff);
  }

  private static boolean truncated(byte[] msg) {
    return (msg[2] & 0x02) != 0;
  }

  private long count(Counter c) {
    return fwd.counters().get(c);
  }

  private static long openFiles() {
    String[] fds = new File("/proc/self/fd").list();
    return fds == null ? 0 : fds.length;
  }

  private static int sequentialSteps(List<Integer> values) {
    int steps = 0;
    for (int i = 1; i < values.size(); i++) {
      if (((values.get(i) - values.get(i - 1)) & 0xffff) == 1) {
        steps++;
      }
    }
    return steps;
  }

  @Test
  void everyQueryLeavesFromItsOwnPortWithAnUnpredictableIdAndTheSocketIsClosed() throws Exception {
    start((up, q) -> up.sendUdp(FakeUpstream.reply(q, 0, "192.0.2.1"), q.from()), Duration.ofSeconds(2), 256);
    int queries = 100;
    try (DatagramSocket client = client()) {
      assertEquals(List.of("192.0.2.1"), addresses(ask(client, Wire.query(1, "warmup.example.org", 1))));
      long filesBefore = openFiles();
      for (int i = 0; i < queries; i++) {
        byte[] reply = ask(client, Wire.query(0x100 + i, "q" + i + ".example.org", 1));
        assertEquals(0x100 + i, id(reply), "the client's id is restored");
        assertEquals(List.of("192.0.2.1"), addresses(reply));
      }
      Thread.sleep(300); // closes are asynchronous
      assertTrue(openFiles() - filesBefore < 10, "the per-query sockets are closed");
    }
    List<Integer> ports = new ArrayList<>();
    List<Integer> ids = new ArrayList<>();
    upstream.nextQuery(0); // the warm-up
    for (FakeUpstream.Query q : upstream.queries) {
      ports.add(q.from().getPort());
      ids.add(q.id());
    }
    assertEquals(queries, ports.size());
    // Ephemeral ports are drawn at random from ~28,000: a few collisions among 100 are possible.
    assertTrue(new HashSet<>(ports).size() >= queries - 10, "distinct source ports: " + new HashSet<>(ports).size());
    assertTrue(sequentialSteps(ports) <= 3, "ports are not handed out in sequence: " + ports);
    assertTrue(new HashSet<>(ids).size() >= queries - 5, "distinct ids: " + new HashSet<>(ids).size());
    assertTrue(sequentialSteps(ids) <= 3, "ids are not sequential: " + ids);
    Set<Integer> clientIds = new HashSet<>();
    for (int i = 0; i < queries; i++) {
      clientIds.add(0x100 + i);
    }
    clientIds.retainAll(ids);
    assertTrue(clientIds.size() <= 5, "the client's ids are not what the upstream sees");
    assertEquals(queries + 1, count(Counter.FORWARD_RELAYED));
  }

  @Test
  void forgedAnswersAreCountedAndDroppedUntilTheRealOneArrives() throws Exception {
    try (DatagramSocket elsewhere = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      start((up, q) -> {
        int id = q.id();
        up.sendUdp(FakeUpstream.answer((id + 1) & 0xffff, 0x0180, NAME, 1, "6.6.6.1"), q.from());
        up.sendUdp(FakeUpstream.answer(id, 0x0180, "evil.example.org", 1, "6.6.6.2"), q.from());
        up.sendUdp(FakeUpstream.answer(id, 0x0180, NAME, 28, "6.6.6.3"), q.from());
        byte[] otherPort = FakeUpstream.answer(id, 0x0180, NAME, 1, "6.6.6.4");
        elsewhere.send(new DatagramPacket(otherPort, otherPort.length, q.from()));
        up.sendUdp(Wire.query(id, NAME, 1), q.from()); // not a response at all
        up.sendUdp(new byte[] {1, 2, 3}, q.from());
        Thread.sleep(100);
        // DNS names are case-insensitive: an upstream may echo the question in another case.
        up.sendUdp(FakeUpstream.answer(id, 0x0180, "WWW.Example.ORG", 1, "192.0.2.7"), q.from());
        Thread.sleep(100);
        up.sendUdp(FakeUpstream.answer(id, 0x0180, NAME, 1, "6.6.6.5"), q.from()); // too late
      }, Duration.ofSeconds(2), 256);
      try (DatagramSocket client = client()) {
        byte[] reply = ask(client, Wire.query(0x5150, NAME, 1));
        assertEquals(0x5150, id(reply));
        assertEquals(List.of("192.0.2.7"), addresses(reply));
        client.setSoTimeout(500);
        assertEquals(null, receive(client), "one answer only");
      }
    }
    assertEquals(1, count(Counter.FORWARD_WRONG_ID));
    assertEquals(2, count(Counter.FORWARD_WRONG_QUESTION));
    assertEquals(1, count(Counter.FORWARD_WRONG_SOURCE));
    assertEquals(2, count(Counter.FORWARD_UNMATCHED), "the query and the runt");
    assertEquals(1, count(Counter.FORWARD_RELAYED));
    assertEquals(0, count(Counter.FORWARD_TIMEOUTS));
  }

  @Test
  void aSpooferSprayingGuessesAtTheQueryPortGetsNothingIn() throws Exception {
    int wrongIds = 150;
    int wrongSource = 50;
    Random rnd = new Random(7);
    try (DatagramSocket spoofer = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      start((up, q) -> {
        // The spoofer knows the question and the port (it sees the query leave) but not the id.
        for (int i = 0; i < wrongIds + wrongSource; i++) {
          if (i < wrongIds) {
            int guess;
            do {
              guess = rnd.nextInt(0x10000);
            } while (guess == q.id());
            up.sendUdp(FakeUpstream.answer(guess, 0x0180, NAME, 1, "6.6.6.6"), q.from()); // perfect source
          } else {
            byte[] right = FakeUpstream.answer(q.id(), 0x0180, NAME, 1, "6.6.6.6");
            spoofer.send(new DatagramPacket(right, right.length, q.from()));
          }
          if (i % 20 == 19) {
            Thread.sleep(5);
          }
        }
        Thread.sleep(100);
        up.sendUdp(FakeUpstream.reply(q, 0, "192.0.2.8"), q.from());
      }, Duration.ofSeconds(3), 256);
      try (DatagramSocket client = client()) {
        assertEquals(List.of("192.0.2.8"), addresses(ask(client, Wire.query(9, NAME, 1))));
      }
    }
    assertEquals(wrongIds, count(Counter.FORWARD_WRONG_ID));
    assertEquals(wrongSource, count(Counter.FORWARD_WRONG_SOURCE));
    assertEquals(1, count(Counter.FORWARD_RELAYED));
  }

  @Test
  void aTruncatedAnswerIsFetchedAgainOverTcpWithTheSameChecks() throws Exception {
    start((up, q) -> {
      if (!q.tcp()) {
        up.sendUdp(FakeUpstream.reply(q, 0x0200), q.from()); // TC, no records
        return;
      }
      FakeUpstream.sendTcp(q, FakeUpstream.answer((q.id() + 7) & 0xffff, 0x0180, NAME, 1, "6.6.6.1"));
      FakeUpstream.sendTcp(q, FakeUpstream.answer(q.id(), 0x0180, "evil.example.org", 1, "6.6.6.2"));
      FakeUpstream.sendTcp(q, FakeUpstream.reply(q, 0, "192.0.2.1", "192.0.2.2", "192.0.2.3"));
    }, Duration.ofSeconds(2), 256);
    try (DatagramSocket client = client()) {
      byte[] reply = ask(client, Wire.query(0x7777, NAME, 1));
      assertEquals(0x7777, id(reply));
      assertFalse(truncated(reply), "the full answer came over TCP");
      assertEquals(List.of("192.0.2.1", "192.0.2.2", "192.0.2.3"), addresses(reply));
    }
    FakeUpstream.Query overUdp = upstream.nextQuery(0);
    FakeUpstream.Query overTcp = upstream.nextQuery(0);
    assertFalse(overUdp.tcp());
    assertTrue(overTcp.tcp());
    assertNotEquals(overUdp.id(), overTcp.id(), "a fresh id for the TCP attempt");
    assertTrue(Arrays.equals(overUdp.bytes(), 2, overUdp.bytes().length, overTcp.bytes(), 2, overTcp.bytes().length));
    assertEquals(1, count(Counter.FORWARD_TCP_RETRIES));
    assertEquals(1, count(Counter.FORWARD_WRONG_ID));
    assertEquals(1, count(Counter.FORWARD_WRONG_QUESTION));
    assertEquals(1, count(Counter.FORWARD_RELAYED));
  }

  @Test
  void aTcpAnswerTooBigForTheClientsUdpIsRelayedTruncatedAndInFullOverTcp() throws Exception {
    String[] many = new String[40];
    for (int i = 0; i < many.length; i++) {
      many[i] = "192.0.2." + (i + 1);
    }
    start((up, q) -> {
      if (q.tcp()) {
        FakeUpstream.sendTcp(q, FakeUpstream.reply(q, 0, many)); // 40 records: more than 512 bytes
      } else {
        up.sendUdp(FakeUpstream.reply(q, 0x0200), q.from());
      }
    }, Duration.ofSeconds(2), 256);
    try (DatagramSocket client = client()) {
      byte[] plain = ask(client, Wire.query(1, NAME, 1));
      assertTrue(truncated(plain), "a client without EDNS takes 512 bytes: it is told to use TCP");
      assertTrue(plain.length <= 512);
      assertEquals(1, id(plain));
      // The same client with EDNS(0) and a 4096-byte buffer (an OPT record in the additional section).
      byte[] edns = Arrays.copyOf(Wire.query(2, NAME, 1), Wire.query(2, NAME, 1).length + 11);
      edns[11] = 1;
      System.arraycopy(new byte[] {0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0}, 0, edns, edns.length - 11, 11);
      byte[] big = ask(client, edns);
      assertFalse(truncated(big));
      assertEquals(40, addresses(big).size());
    }
    byte[] overTcp = askTcp(Wire.query(3, NAME, 1));
    assertEquals(3, id(overTcp));
    assertFalse(truncated(overTcp));
    assertEquals(Arrays.asList(many), addresses(overTcp));
    assertEquals(3, count(Counter.FORWARD_TCP_RETRIES));
    assertEquals(3, count(Counter.FORWARD_RELAYED));
  }

  @Test
  void outstandingQueriesAreBoundedAndTheOverflowGetsServfailAtOnce() throws Exception {
    start((up, q) -> { }, Duration.ofMillis(1500), 4); // an upstream that never answers
    try (DatagramSocket client = client()) {
      for (int i = 1; i <= 10; i++) {
        byte[] q = Wire.query(i, "n" + i + ".example.org", 1);
        client.send(new DatagramPacket(q, q.length, fwd.boundAddresses().get(0)));
      }
      client.setSoTimeout(700);
      Set<Integer> refused = new HashSet<>();
      for (int i = 0; i < 6; i++) {
        byte[] r = receive(client);
        assertNotNull(r, "overflow is answered at once, not after the timeout");
        DatagramDnsResponse d = Wire.decode(r);
        assertEquals(DnsResponseCode.SERVFAIL, d.code());
        assertEquals("n" + d.id() + ".example.org.", d.recordAt(DnsSection.QUESTION).name());
        d.release();
        refused.add(id(r));
      }
      assertEquals(Set.of(5, 6, 7, 8, 9, 10), refused);
      assertEquals(6, count(Counter.FORWARD_OVERLOAD));
      client.setSoTimeout(3000);
      Set<Integer> timedOut = new HashSet<>();
      for (int i = 0; i < 4; i++) {
        byte[] r = receive(client);
        assertNotNull(r);
        timedOut.add(id(r));
      }
      assertEquals(Set.of(1, 2, 3, 4), timedOut);
    }
    assertEquals(4, upstream.queries.size(), "only the admitted queries went upstream");
    assertEquals(4, count(Counter.FORWARD_TIMEOUTS));
    assertEquals(10, count(Counter.SERVFAIL));
  }
}
