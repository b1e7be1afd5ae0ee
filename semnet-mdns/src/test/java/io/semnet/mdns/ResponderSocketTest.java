package io.semnet.mdns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.semnet.core.service.ServiceId;
import io.semnet.mdns.ResponderCounters.Counter;
import io.semnet.mdns.testing.FakeResolver;
import io.semnet.mdns.testing.Policies;
import io.semnet.mdns.testing.Wire;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The responder on real loopback sockets (no root needed): hostile input, TCP limits, lifecycle. */
class ResponderSocketTest {
  static final ServiceId API = ServiceId.of("shop", "prod", "api", "backend");
  static final String INSTANCE0 = "shop.prod.api.backend.0.none.local";

  FakeResolver resolver;
  SemanticNameResponder responder;
  InetSocketAddress server;

  @BeforeEach
  void setUp() throws Exception {
    resolver = new FakeResolver();
    resolver.put(FakeResolver.record(API, 1, "172.30.0.10", "fdff::10", "172.30.1.1", "fdff::1:1"));
    // Only 127.0.0.1 itself is "on the link", so a client on 127.0.0.2 is off-link.
    responder = SemanticNameResponder.builder()
        .bridgeAddresses("127.0.0.1/32")
        .mdns(false)
        .dnsPort(0)
        .maxTcpConnections(4)
        .resolver(resolver)
        .policies(Policies.of("rr"))
        .build();
    responder.start(null);
    server = responder.boundAddresses().get(0);
  }

  @AfterEach
  void tearDown() {
    responder.close();
    resolver.close();
  }

  private byte[] udp(DatagramSocket s, byte[] query, int timeoutMillis) throws IOException {
    s.setSoTimeout(timeoutMillis);
    s.send(new DatagramPacket(query, query.length, server));
    DatagramPacket in = new DatagramPacket(new byte[4096], 4096);
    try {
      s.receive(in);
    } catch (SocketTimeoutException e) {
      return null;
    }
    return Arrays.copyOf(in.getData(), in.getLength());
  }

  @Test
  void hostileDatagramsAreCountedAndNeverAmplifiedAndTheServerKeepsAnswering() throws Exception {
    try (DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      Random rnd = new Random(42);
      long sentBytes = 0;
      long receivedBytes = 0;
      List<byte[]> hostile = new ArrayList<>();
      hostile.add(new byte[0]);
      hostile.add(new byte[] {1});
      hostile.add(new byte[] {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, (byte) 0xc0, 12, 0, 1, 0, 1}); // loop
      hostile.add(new byte[] {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, (byte) 0xc0, 14, (byte) 0xc0, 12, 0, 1}); // forward
      hostile.add(new byte[1400]); // oversized
      byte[] response = Wire.query(9, INSTANCE0, 1);
      response[2] |= (byte) 0x80;
      hostile.add(response);
      for (int i = 0; i < 120; i++) {
        byte[] b = new byte[rnd.nextInt(80)];
        rnd.nextBytes(b);
        hostile.add(b);
      }
      for (byte[] h : hostile) {
        sentBytes += h.length;
        byte[] r = udp(s, h, 30);
        if (r != null) {
          receivedBytes += r.length;
          assertTrue(r.length <= Math.max(h.length, 12) + 44, "reply of " + r.length + " to " + h.length + " bytes");
        }
      }
      assertTrue(receivedBytes <= sentBytes, "replied " + receivedBytes + " bytes to " + sentBytes);
      ResponderCounters c = responder.counters();
      assertTrue(c.get(Counter.FORMERR) >= 3, c.toString());
      assertTrue(c.get(Counter.RESPONSES_DROPPED) >= 1, c.toString());
      assertTrue(c.get(Counter.OVERSIZED) >= 1, c.toString());
      assertTrue(c.get(Counter.MALFORMED_DROPPED) >= 2, c.toString());
      // Still healthy.
      DatagramDnsResponse ok = Wire.decode(udp(s, Wire.query(77, INSTANCE0, 1), 2000));
      assertEquals(DnsResponseCode.NOERROR, ok.code());
      assertEquals(1, ok.count(DnsSection.ANSWER));
      ok.release();
    }
  }

  @Test
  void offLinkSourcesAreRefused() throws Exception {
    try (DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.2", 0))) {
      DatagramDnsResponse r = Wire.decode(udp(s, Wire.query(5, INSTANCE0, 1), 2000));
      assertEquals(DnsResponseCode.REFUSED, r.code());
      r.release();
    }
    assertEquals(1, responder.counters().get(Counter.OFF_LINK));
    assertEquals(0, resolver.totalCalls());
  }

  @Test
  void tcpAnswersPipelinedQueriesAndDropsOversizedFramesAndExcessConnections() throws Exception {
    try (Socket t = new Socket()) {
      t.connect(server, 2000);
      t.setSoTimeout(10_000); // a bound for failure only: at load 30 the answers took over 3 s
      DataOutputStream out = new DataOutputStream(t.getOutputStream());
      DataInputStream in = new DataInputStream(t.getInputStream());
      for (int id = 1; id <= 3; id++) {
        byte[] q = Wire.query(id, INSTANCE0, id == 2 ? 28 : 1);
        out.writeShort(q.length);
        out.write(q);
      }
      out.flush();
      List<Integer> ids = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        byte[] r = new byte[in.readUnsignedShort()];
        in.readFully(r);
        DatagramDnsResponse d = Wire.decode(r);
        assertEquals(DnsResponseCode.NOERROR, d.code());
        ids.add(d.id());
        d.release();
      }
      assertEquals(List.of(1, 2, 3), ids.stream().sorted().toList());
    }
    // An oversized frame closes the connection.
    try (Socket t = new Socket()) {
      t.connect(server, 2000);
      t.setSoTimeout(10_000); // a bound for failure only: at load 30 the answers took over 3 s
      DataOutputStream out = new DataOutputStream(t.getOutputStream());
      out.writeShort(60000);
      out.write(new byte[5000]);
      out.flush();
      assertClosedByPeer(t);
    }
    // Connections beyond the limit are closed at once.
    List<Socket> held = new ArrayList<>();
    try {
      for (int i = 0; i < 4; i++) {
        Socket s = new Socket();
        s.connect(server, 2000);
        held.add(s);
      }
      Thread.sleep(200);
      try (Socket extra = new Socket()) {
        extra.connect(server, 2000);
        extra.setSoTimeout(3000);
        assertClosedByPeer(extra);
      }
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
    assertTrue(responder.counters().get(Counter.TCP_REJECTED) >= 2, responder.counters().toString());
  }

  private static void assertClosedByPeer(Socket s) throws IOException {
    try {
      assertEquals(-1, s.getInputStream().read());
    } catch (java.net.SocketException reset) {
      // closed with unread data: the kernel resets instead of a FIN, also a close
    }
  }

  @Test
  void forwardingFallsBackToTheNextUpstreamAndRelaysFaithfully() throws Exception {
    try (DatagramSocket silent = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        DatagramSocket upstream = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      SemanticNameResponder fwd = SemanticNameResponder.builder()
          .bridgeAddresses("127.0.0.1/8")
          .mdns(false)
          .dnsPort(0)
          .upstreams("127.0.0.1:" + silent.getLocalPort(), "127.0.0.1:" + upstream.getLocalPort())
          .forwardTimeout(java.time.Duration.ofMillis(300))
          .resolver(resolver)
          .policies(Policies.of("rr"))
          .build();
      fwd.start(null);
      Thread answering = new Thread(() -> {
        try {
          upstream.setSoTimeout(5000);
          DatagramPacket p = new DatagramPacket(new byte[512], 512);
          upstream.receive(p);
          byte[] q = Arrays.copyOf(p.getData(), p.getLength());
          // Answer: the query with QR|RA set, one A record pointing at the question, and a marker TTL.
          java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
          out.write(q, 0, 2);
          out.write(0x81);
          out.write(0x80);
          out.write(new byte[] {0, 1, 0, 1, 0, 0, 0, 0}, 0, 8);
          out.write(q, 12, q.length - 12);
          out.write(new byte[] {(byte) 0xc0, 12, 0, 1, 0, 1, 0, 0, 0x12, 0x34, 0, 4, (byte) 192, 0, 2, 99}, 0, 16);
          byte[] r = out.toByteArray();
          upstream.send(new DatagramPacket(r, r.length, p.getSocketAddress()));
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      });
      answering.start();
      try (DatagramSocket client = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
        client.setSoTimeout(3000);
        byte[] q = Wire.query(0x5150, "www.example.org", 1);
        client.send(new DatagramPacket(q, q.length, fwd.boundAddresses().get(0)));
        DatagramPacket in = new DatagramPacket(new byte[512], 512);
        client.receive(in);
        DatagramDnsResponse r = Wire.decode(Arrays.copyOf(in.getData(), in.getLength()));
        assertEquals(0x5150, r.id(), "the client's id is restored");
        assertEquals(0x1234, r.recordAt(DnsSection.ANSWER).timeToLive(), "relayed as the upstream sent it");
        r.release();
      } finally {
        answering.join(5000);
        fwd.close();
      }
      assertEquals(1, fwd.counters().get(Counter.FORWARD_TIMEOUTS));
      assertEquals(1, fwd.counters().get(Counter.FORWARD_RELAYED));
    }
  }

  @Test
  void forwardingAnswersServfailWhenNoUpstreamAnswers() throws Exception {
    try (DatagramSocket silent = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      SemanticNameResponder fwd = SemanticNameResponder.builder()
          .bridgeAddresses("127.0.0.1/8").mdns(false).dnsPort(0)
          .upstreams("127.0.0.1:" + silent.getLocalPort())
          .forwardTimeout(java.time.Duration.ofMillis(200))
          .resolver(resolver).policies(Policies.of("rr")).build();
      fwd.start(null);
      try (DatagramSocket client = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
        client.setSoTimeout(3000);
        byte[] q = Wire.query(0x0bad, "www.example.org", 28);
        client.send(new DatagramPacket(q, q.length, fwd.boundAddresses().get(0)));
        DatagramPacket in = new DatagramPacket(new byte[512], 512);
        client.receive(in);
        DatagramDnsResponse r = Wire.decode(Arrays.copyOf(in.getData(), in.getLength()));
        assertEquals(0x0bad, r.id());
        assertEquals(DnsResponseCode.SERVFAIL, r.code());
        assertEquals("www.example.org.", r.recordAt(DnsSection.QUESTION).name());
        r.release();
      } finally {
        fwd.close();
      }
    }
  }

  @Test
  void refuseOutOfZoneOverridesUpstreams() throws Exception {
    SemanticNameResponder refusing = SemanticNameResponder.builder()
        .bridgeAddresses("127.0.0.1/8").mdns(false).dnsPort(0)
        .upstreams("127.0.0.1:9").refuseOutOfZone(true)
        .resolver(resolver).policies(Policies.of("rr")).build();
    refusing.start(null);
    try (DatagramSocket client = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      client.setSoTimeout(3000);
      byte[] q = Wire.query(3, "www.example.org", 1);
      client.send(new DatagramPacket(q, q.length, refusing.boundAddresses().get(0)));
      DatagramPacket in = new DatagramPacket(new byte[512], 512);
      client.receive(in);
      DatagramDnsResponse r = Wire.decode(Arrays.copyOf(in.getData(), in.getLength()));
      assertEquals(DnsResponseCode.REFUSED, r.code());
      r.release();
    } finally {
      refusing.close();
    }
    assertEquals(0, refusing.counters().get(Counter.FORWARDED));
  }

  @Test
  void closeReleasesTheSocketsAndTheListener() throws Exception {
    assertEquals(1, resolver.listenerCount());
    responder.close();
    assertEquals(0, resolver.listenerCount());
    // The port is free again.
    try (DatagramSocket s = new DatagramSocket(server)) {
      assertNotNull(s.getLocalSocketAddress());
    }
    responder.close(); // idempotent
  }

  @Test
  void startFailsCleanlyWhenThePortIsTaken() throws Exception {
    SemanticNameResponder second = SemanticNameResponder.builder()
        .bridgeAddresses("127.0.0.1/32")
        .mdns(false)
        .dnsPort(server.getPort())
        .resolver(resolver)
        .policies(Policies.of("rr"))
        .build();
    assertThrows(Exception.class, () -> second.start(null));
    second.close();
    assertEquals(1, resolver.listenerCount());
    InetAddress.getLoopbackAddress();
  }
}
