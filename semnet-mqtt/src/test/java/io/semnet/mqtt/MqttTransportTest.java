package io.semnet.mqtt;

import static io.semnet.mqtt.MqttTestSupport.SVC;
import static io.semnet.mqtt.MqttTestSupport.await;
import static io.semnet.mqtt.MqttTestSupport.publish;
import static io.semnet.mqtt.MqttTestSupport.raw;
import static io.semnet.mqtt.MqttTestSupport.started;
import static io.semnet.mqtt.MqttTestSupport.transport;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.service.SemanticName;
import io.semnet.core.trust.RootAuthority;
import io.semnet.resolver.protocol.Ack;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.Drop;
import io.semnet.resolver.protocol.ErrorReply;
import io.semnet.resolver.protocol.Query;
import io.semnet.resolver.protocol.QueryKey;
import io.semnet.resolver.protocol.QueryReply;
import io.semnet.resolver.protocol.RecordPush;
import io.semnet.resolver.protocol.RemovalPush;
import io.semnet.resolver.protocol.SignedRecord;
import io.semnet.resolver.protocol.SignedRemoval;
import io.semnet.resolver.transport.ClientChannel;
import io.semnet.resolver.transport.RequestHandler;
import io.semnet.resolver.transport.ServerBinding;
import io.semnet.resolver.transport.TransportException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The transport SPI contract over a real mosquitto on loopback: request/reply, push order,
 * fail-fast on an unbound or vanished manager, manager and broker restarts, malformed and
 * foreign-version input, and the schema-version window of a rolling upgrade.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MqttTransportTest {
  private static final Duration T = Duration.ofSeconds(5);
  private static MosquittoBroker broker;
  private static final AtomicInteger seq = new AtomicInteger();

  @BeforeAll
  static void startBroker() throws Exception {
    broker = MosquittoBroker.start();
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  /** Unique ids per test, so retained state of one test cannot leak into another. */
  private static String id(String base) {
    return base + "-" + seq.incrementAndGet();
  }

  /** Answers queries with NOT_FOUND carrying the client id it saw, and counts calls. */
  private static final class Manager implements RequestHandler {
    final AtomicInteger calls = new AtomicInteger();
    final List<ControlMessage> seen = new CopyOnWriteArrayList<>();

    @Override
    public CompletableFuture<ControlMessage> onRequest(String clientId, ControlMessage request) {
      calls.incrementAndGet();
      seen.add(request);
      if (request instanceof Query) {
        return CompletableFuture.completedFuture(QueryReply.notFound("asked by " + clientId));
      }
      if (request instanceof Drop) {
        return CompletableFuture.failedFuture(new IllegalArgumentException("no interests to drop"));
      }
      return CompletableFuture.completedFuture(new Ack());
    }
  }

  private static Query query() throws Exception {
    return new Query(QueryKey.of(InetAddress.getByName("100.65.0.1")), true);
  }

  private static ControlMessage get(ClientChannel c, ControlMessage m) throws Exception {
    return c.request(m, T).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /**
   * Waits until manager {@code mid} announced itself up (retained, published once its request
   * subscription is active): a request sent before may reach the broker ahead of that subscription.
   */
  private void awaitBound(String mid) throws Exception {
    CompletableFuture<String> up = new CompletableFuture<>();
    MqttAsyncClient spy = raw(broker, id("spy"), (topic, m) -> up.complete(topic));
    try {
      spy.subscribe("semnet/" + mid + "/state", 1).waitForCompletion(5000);
      up.get(10, TimeUnit.SECONDS);
    } finally {
      spy.disconnect().waitForCompletion(5000);
      spy.close();
    }
  }

  @Test
  void requestReplyCarriesAuthenticatedClientIdAndCompletesOnTransportThread() throws Exception {
    String mid = id("cluster");
    Manager h = new Manager();
    try (MqttTransport server = started(transport(broker, mid));
        MqttTransport client = started(transport(broker, id("worker")))) {
      server.bind(mid, h);
      awaitBound(mid);
      ClientChannel ch = client.connect(mid, "w1", p -> {});
      String caller = Thread.currentThread().getName();
      CompletableFuture<String> thread = new CompletableFuture<>();
      ControlMessage r = ch.request(query(), T).whenComplete((x, e) -> thread.complete(Thread.currentThread().getName()))
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals(QueryReply.notFound("asked by w1"), r);
      assertEquals(query(), h.seen.get(0));
      assertNotEquals(caller, thread.get());
      assertTrue(thread.get().startsWith("semnet-mqtt-"), thread.get());

      // A handler failure reaches the client as an ErrorReply, not as a hang.
      ControlMessage err = get(ch, new Drop(List.of(SVC)));
      assertEquals(new ErrorReply("no interests to drop"), err);

      // Name keys and signed records survive the JSON round trip, and the signature still verifies.
      RootAuthority root = RootAuthority.generate();
      SignedRecord signed = SignedRecord.sign(MqttTestSupport.record(7), root);
      String mid2 = id("cluster");
      server.bind(mid2, (cid, req) -> CompletableFuture.completedFuture(QueryReply.found(signed)));
      awaitBound(mid2);
      ClientChannel ch2 = client.connect(mid2, "w1", p -> {});
      QueryReply found = (QueryReply) get(ch2, new Query(QueryKey.of(SemanticName.parse("cart.prod.shop.prod.any.rr.local")), false));
      assertEquals(signed, found.record());
      assertTrue(found.record().verify(root.trust()));
      assertEquals(0, server.rejectedMessages() + client.rejectedMessages());
    }
  }

  @Test
  void pushesArriveInOrder() throws Exception {
    String mid = id("cluster");
    int n = 500;
    List<Long> got = Collections.synchronizedList(new ArrayList<>());
    try (MqttTransport server = started(transport(broker, mid));
        MqttTransport client = started(transport(broker, id("worker")))) {
      ServerBinding b = server.bind(mid, new Manager());
      ClientChannel ch = client.connect(mid, "w2", p -> got.add(((RemovalPush) p).removal().version()));
      assertInstanceOf(Ack.class, get(ch, new io.semnet.resolver.protocol.Renew(List.of())));
      pushVersions(b, "w2", n);
      await("all pushes", Duration.ofSeconds(20), () -> got.size() >= n);
      assertEquals(ascending(n), new ArrayList<>(got));
      assertThrows(IllegalArgumentException.class, () -> b.push("w2", new Ack()));
    }
  }

  /** Pushes removals of versions 1..n to {@code client}, each accepted by the transport. */
  private static void pushVersions(ServerBinding b, String client, int n) {
    for (long v = 1; v <= n; v++) {
      assertTrue(b.push(client, new RemovalPush(SignedRemoval.withdrawn(SVC, v))));
    }
  }

  private static List<Long> ascending(int n) {
    List<Long> out = new ArrayList<>();
    for (long v = 1; v <= n; v++) {
      out.add(v);
    }
    return out;
  }

  /**
   * A window configured above the broker's Receive Maximum (this broker: max_inflight_messages 20)
   * is capped at what the broker announced in its CONNACK: a burst of pushes all arrive, in order,
   * none is dropped (before, publishes past the broker's 20 were refused by Paho and lost).
   */
  @Test
  void windowAboveBrokerReceiveMaximumLosesNothing() throws Exception {
    String mid = id("cluster");
    int n = 1_000;
    List<Long> got = Collections.synchronizedList(new ArrayList<>());
    try (MqttTransport server = started(transport(broker, mid).inflight(256));
        MqttTransport client = started(transport(broker, id("worker")))) {
      ServerBinding b = server.bind(mid, new Manager());
      ClientChannel ch = client.connect(mid, "w2", p -> got.add(((RemovalPush) p).removal().version()));
      assertInstanceOf(Ack.class, get(ch, new io.semnet.resolver.protocol.Renew(List.of())));
      pushVersions(b, "w2", n);
      await("all pushes", Duration.ofSeconds(30), () -> got.size() >= n || server.droppedOutbound() > 0);
      assertEquals(0, server.droppedOutbound());
      assertEquals(ascending(n), new ArrayList<>(got));
    }
  }

  /**
   * A request made before the manager is up (its request subscription not yet active) waits for the
   * manager's state, at most the presence grace, instead of being published into the void and
   * timing out (before: lost, "no reply within 5 s").
   */
  @Test
  void requestBeforeManagerIsUpWaitsWithinPresenceGrace() throws Exception {
    String mid = id("cluster");
    Manager h = new Manager();
    try (MqttTransport server = started(transport(broker, mid));
        MqttTransport client = started(transport(broker, id("worker")).presenceGrace(Duration.ofSeconds(8)))) {
      ClientChannel ch = client.connect(mid, "w9", p -> {});
      CompletableFuture<ControlMessage> r = ch.request(query(), T).toCompletableFuture();
      Thread.sleep(500); // the request is made; the manager binds only now
      server.bind(mid, h);
      assertEquals(QueryReply.notFound("asked by w9"), r.get(20, TimeUnit.SECONDS));
      assertEquals(1, h.calls.get());
    }
  }

  @Test
  void unboundManagerFailsFastAndBindingRulesHold() throws Exception {
    try (MqttTransport client = started(transport(broker, id("worker")))) {
      ClientChannel ch = client.connect(id("nobody"), "w3", p -> {});
      Thread.sleep(600); // past the presence grace: the broker had no state for that manager
      long t0 = System.nanoTime();
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> ch.request(query(), Duration.ofSeconds(30)).toCompletableFuture().get(10, TimeUnit.SECONDS));
      assertInstanceOf(TransportException.class, e.getCause());
      assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(2), "failed fast");

      String mid = id("cluster");
      client.bind(mid, new Manager());
      assertThrows(IllegalStateException.class, () -> client.bind(mid, new Manager()));
      assertThrows(IllegalArgumentException.class, () -> client.bind("a/b", new Manager()));
      assertThrows(IllegalArgumentException.class, () -> client.connect(mid, "w/+", p -> {}));
      assertThrows(IllegalArgumentException.class, () -> client.connect(mid, "#", p -> {}));
    }
  }

  @Test
  void unbindAndManagerCrashFailFastAndChannelsWorkAgainWhenManagerIsBack() throws Exception {
    String mid = id("cluster");
    String host = id("node");
    try (MqttTransport client = started(transport(broker, id("worker")))) {
      ClientChannel ch = client.connect(mid, "w4", p -> {});
      MqttTransport server = started(transport(broker, host));
      ServerBinding b = server.bind(mid, new Manager());
      assertInstanceOf(QueryReply.class, retry(ch));

      // Graceful unbind: the retained state says so, requests fail at once.
      b.close();
      await("unbind seen", T, () -> failsFast(ch));

      // Rebind, then crash the node without a DISCONNECT: the broker publishes its Will.
      server.bind(mid, new Manager());
      assertInstanceOf(QueryReply.class, retry(ch));
      server.crashForTest();
      await("crash seen", Duration.ofSeconds(10), () -> failsFast(ch));

      // A new incarnation of the node (same identity) binds the manager again: the old channel works.
      try (MqttTransport again = started(transport(broker, host))) {
        Manager h = new Manager();
        again.bind(mid, h);
        assertEquals(QueryReply.notFound("asked by w4"), retry(ch));
        assertTrue(h.calls.get() >= 1);
      }
    }
  }

  @Test
  void brokerRestartDoesNotWedgeClientsOrManagers() throws Exception {
    try (MosquittoBroker own = MosquittoBroker.start()) {
      String mid = id("cluster");
      List<ControlMessage> pushes = new CopyOnWriteArrayList<>();
      try (MqttTransport server = started(transport(own, mid));
          MqttTransport client = started(transport(own, id("worker")))) {
        ServerBinding b = server.bind(mid, new Manager());
        ClientChannel ch = client.connect(mid, "w5", pushes::add);
        assertInstanceOf(QueryReply.class, retry(ch));

        own.stop();
        await("client sees the broker gone", T, () -> !client.isConnected());
        long t0 = System.nanoTime();
        ExecutionException e = assertThrows(ExecutionException.class,
            () -> ch.request(query(), Duration.ofSeconds(30)).toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertInstanceOf(TransportException.class, e.getCause());
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(2), "failed fast while offline");
        assertTrue(!b.push("w5", new RemovalPush(SignedRemoval.withdrawn(SVC, 1))), "push reports unreachable");

        own.startAgain();
        assertTrue(client.awaitConnected(Duration.ofSeconds(10)));
        assertTrue(server.awaitConnected(Duration.ofSeconds(10)));
        assertEquals(QueryReply.notFound("asked by w5"), retry(ch));
        assertTrue(b.push("w5", new RemovalPush(SignedRemoval.withdrawn(SVC, 2))));
        await("push after restart", T, () -> pushes.size() == 1);
        assertTrue(client.reconnects() >= 1 && server.reconnects() >= 1);
      }
    }
  }

  @Test
  void malformedAndUnexpectedMessagesAreDroppedCountedAndHarmless() throws Exception {
    String mid = id("cluster");
    Manager h = new Manager();
    List<ControlMessage> pushes = new CopyOnWriteArrayList<>();
    try (MqttTransport server = started(transport(broker, mid).maxMessageBytes(4096));
        MqttTransport client = started(transport(broker, id("worker")))) {
      server.bind(mid, h);
      ClientChannel ch = client.connect(mid, "w6", pushes::add);
      assertInstanceOf(QueryReply.class, retry(ch));
      int callsBefore = h.calls.get();
      MqttAsyncClient rogue = raw(broker, id("rogue"));
      try {
        String req = "semnet/" + mid + "/c2m/w6";
        List<String> bad = List.of(
            "not json at all",
            "[1,2,3]",
            "{\"kind\":\"request\",\"id\":1,\"type\":\"query\"}",
            "{\"v\":\"1\",\"kind\":\"request\",\"id\":1,\"type\":\"query\"}",
            "{\"v\":1,\"kind\":\"request\",\"id\":1,\"type\":\"query\",\"key\":{}}",
            "{\"v\":1,\"kind\":\"request\",\"id\":1,\"type\":\"query\",\"key\":{\"address\":\"300.1.1.1\"},\"register\":true}",
            "{\"v\":1,\"kind\":\"request\",\"id\":1,\"type\":\"teleport\"}",
            "{\"v\":1,\"kind\":\"request\",\"type\":\"drop\",\"services\":[]}",
            "{\"v\":1,\"kind\":\"request\",\"id\":1,\"type\":\"ack\"}",
            "{\"v\":1,\"kind\":\"push\",\"type\":\"removal\",\"removal\":{\"service\":\"a.b.c.d\",\"version\":1}}",
            "{\"v\":1,\"kind\":\"request\",\"id\":1,\"type\":\"drop\",\"services\":[\"not-a-service\"]}",
            "{\"v\":1,\"kind\":\"request\",\"id\":1,\"type\":\"hello\",\"node\":\"x\",\"role\":\"god\"}",
            "{\"v\":1,\"kind\":\"sermon\",\"id\":1,\"type\":\"hello\",\"node\":\"x\",\"role\":\"worker\"}",
            "{\"v\":1,\"kind\":\"request\",\"id\":1,\"type\":\"query\",\"key\":" + "[".repeat(3000) + "]".repeat(3000) + "}");
        for (String s : bad) {
          publish(rogue, req, s);
        }
        // Forged traffic on the client's inbox: an unsolicited reply and a garbage push.
        String inbox = "semnet/" + mid + "/m2c/w6";
        publish(rogue, inbox, "{\"v\":1,\"kind\":\"reply\",\"id\":424242,\"type\":\"ack\"}");
        publish(rogue, inbox, "{\"v\":1,\"kind\":\"push\",\"type\":\"record\",\"record\":{\"digests\":[]}}");
        publish(rogue, "semnet/" + mid + "/state", "{\"v\":1,\"kind\":\"state\"}");
        rogue.publish(req, new byte[0], 1, false).waitForCompletion(5000);

        await("all rejected", T, () -> server.rejectedMessages() >= bad.size() + 1 && client.rejectedMessages() >= 3);
        assertEquals(callsBefore, h.calls.get(), "no malformed request reached the handler");
        assertTrue(pushes.isEmpty(), "no malformed push reached the client");
        assertTrue(server.rejectedMessages("oversized payload") >= 1);
        assertTrue(client.rejectedMessages("unexpected reply") >= 1);
        // State and traffic are intact.
        assertEquals(QueryReply.notFound("asked by w6"), get(ch, query()));
      } finally {
        rogue.disconnect().waitForCompletion(2000);
        rogue.close();
      }
    }
  }

  @Test
  void previousSchemaVersionIsAcceptedAndAnsweredInKind() throws Exception {
    // A manager already upgraded to "version 2" (reads 1..2) and a worker still at version 1.
    String mid = id("cluster");
    Manager h = new Manager();
    List<ControlMessage> pushes = new CopyOnWriteArrayList<>();
    try (MqttTransport server = started(transport(broker, mid).schemaVersions(2, 1));
        MqttTransport oldClient = started(transport(broker, id("worker")).schemaVersions(1, 1));
        MqttTransport newClient = started(transport(broker, id("worker")).schemaVersions(2, 1))) {
      ServerBinding b = server.bind(mid, h);
      ClientChannel old = oldClient.connect(mid, "old", pushes::add);
      assertEquals(QueryReply.notFound("asked by old"), retry(old));
      assertTrue(b.push("old", new RemovalPush(SignedRemoval.withdrawn(SVC, 9))));
      await("push in the old version", T, () -> pushes.size() == 1);
      assertEquals(0, oldClient.rejectedMessages(), "the old node understood every reply and push");

      ClientChannel fresh = newClient.connect(mid, "new", p -> {});
      assertEquals(QueryReply.notFound("asked by new"), retry(fresh));

      // A client of the next generation talking to an old manager is refused with a reason.
      String oldMid = id("cluster");
      try (MqttTransport oldServer = started(transport(broker, oldMid).schemaVersions(1, 1))) {
        Manager oh = new Manager();
        oldServer.bind(oldMid, oh);
        ClientChannel ahead = newClient.connect(oldMid, "ahead", p -> {});
        ControlMessage r = retry(ahead);
        assertEquals(new ErrorReply("unsupported schema version 2"), r);
        assertEquals(0, oh.calls.get());
        assertEquals(1, oldServer.rejectedMessages("unsupported schema version"));
        // ... and works once it writes the previous version during the upgrade.
        try (MqttTransport polite = started(transport(broker, id("worker")).schemaVersions(2, 1).writeVersion(1))) {
          assertEquals(QueryReply.notFound("asked by polite"), retry(polite.connect(oldMid, "polite", p -> {})));
        }
      }
    }
  }

  @Test
  void unknownSchemaVersionIsRejected() throws Exception {
    String mid = id("cluster");
    Manager h = new Manager();
    try (MqttTransport server = started(transport(broker, mid))) {
      server.bind(mid, h);
      CompletableFuture<String> answer = new CompletableFuture<>();
      MqttAsyncClient peer = raw(broker, id("future"), (topic, msg) -> answer.complete(new String(msg.getPayload(), StandardCharsets.UTF_8)));
      try {
        peer.subscribe("semnet/" + mid + "/m2c/fut", 1).waitForCompletion(5000);
        publish(peer, "semnet/" + mid + "/c2m/fut",
            "{\"v\":99,\"kind\":\"request\",\"id\":5,\"type\":\"query\",\"key\":{\"address\":\"100.65.0.1\"},\"register\":true}");
        publish(peer, "semnet/" + mid + "/c2m/fut",
            "{\"v\":0,\"kind\":\"request\",\"id\":6,\"type\":\"query\",\"key\":{\"address\":\"100.65.0.1\"},\"register\":true}");
        String a = answer.get(10, TimeUnit.SECONDS);
        assertTrue(a.contains("\"kind\":\"reply\"") && a.contains("\"id\":5") && a.contains("unsupported schema version 99"), a);
        await("both rejected", T, () -> server.rejectedMessages("unsupported schema version") == 2);
        assertEquals(0, h.calls.get());
      } finally {
        peer.disconnect().waitForCompletion(2000);
        peer.close();
      }
    }
  }

  /** A request, retried while the transport reports the manager unreachable (the SPI's recovery model). */
  static ControlMessage retry(ClientChannel ch) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (true) {
      try {
        return ch.request(query(), Duration.ofSeconds(2)).toCompletableFuture().get(5, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TransportException) || System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(50);
      }
    }
  }

  private static boolean failsFast(ClientChannel ch) {
    long t0 = System.nanoTime();
    try {
      ch.request(query(), Duration.ofSeconds(30)).toCompletableFuture().get(3, TimeUnit.SECONDS);
      return false;
    } catch (ExecutionException e) {
      return e.getCause() instanceof TransportException && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(1);
    } catch (Exception e) {
      return false;
    }
  }
}
