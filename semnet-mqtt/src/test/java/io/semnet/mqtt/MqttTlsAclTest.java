package io.semnet.mqtt;

import io.semnet.mqtt.internal.MosquittoAcl;

import static io.semnet.mqtt.MqttTestSupport.SVC;
import static io.semnet.mqtt.MqttTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.trust.RootAuthority;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.Query;
import io.semnet.resolver.protocol.QueryKey;
import io.semnet.resolver.protocol.QueryReply;
import io.semnet.resolver.protocol.RecordPush;
import io.semnet.resolver.protocol.SignedRecord;
import io.semnet.resolver.transport.ClientChannel;
import io.semnet.resolver.transport.ServerBinding;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The secured set-up of semnet-mqtt/README.md against a real mosquitto: TLS with per-node client certificates
 * made by openssl, identities taken from the certificates, and the generated ACL. An authorised
 * worker talks to its cluster manager; a second, validly enrolled node cannot send as the worker,
 * forge pushes or manager state, eavesdrop, or stand in for the manager; nodes without a
 * certificate of the platform CA cannot connect at all.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class MqttTlsAclTest {
  private static final Duration T = Duration.ofSeconds(5);

  @Test
  void authorisedNodesWorkAndANodeCannotActOnAnotherNodesTopics(@TempDir Path tmp) throws Exception {
    // mosquitto started as root drops to its own user: it must be able to traverse to its files.
    Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    Path dir = Files.createDirectory(tmp.resolve("pki"));
    TestPki pki = TestPki.create(dir, "ca");
    pki.broker("ca");
    for (String n : List.of("cluster-a", "worker-1", "worker-2")) {
      pki.node(n, "ca");
    }
    TestPki.create(dir, "other-ca").node("stranger", "other-ca");
    Files.writeString(dir.resolve("acl"), MosquittoAcl.forManagers("semnet", List.of("cluster-a")));
    pki.makeReadable();
    String tls = MosquittoBroker.mutualTlsConfig(dir);

    RootAuthority root = RootAuthority.generate();
    SignedRecord genuine = SignedRecord.sign(MqttTestSupport.record(3), root);
    AtomicInteger calls = new AtomicInteger();
    List<String> askers = new CopyOnWriteArrayList<>();
    List<ControlMessage> pushesToW1 = new CopyOnWriteArrayList<>();

    try (MosquittoBroker broker = MosquittoBroker.start(dir, tls)) {
      try (MqttTransport cluster = node(broker, pki, "cluster-a");
          MqttTransport w1 = node(broker, pki, "worker-1");
          MqttTransport w2 = node(broker, pki, "worker-2")) {
        ServerBinding b = cluster.bind("cluster-a", (client, req) -> {
          calls.incrementAndGet();
          askers.add(client);
          return CompletableFuture.completedFuture(QueryReply.found(genuine));
        });
        ClientChannel ch1 = w1.connect("cluster-a", "worker-1", pushesToW1::add);

        // 1. The authorised worker is answered, and the manager sees its certificate identity.
        QueryReply r = (QueryReply) MqttTransportTest.retry(ch1);
        assertEquals(genuine, r.record());
        assertEquals(List.of("worker-1"), askers);
        assertTrue(b.push("worker-1", new RecordPush(genuine)));
        await("genuine push", T, () -> pushesToW1.size() == 1);

        // worker-2 talking as itself works too, and is seen as worker-2.
        ClientChannel ch2 = w2.connect("cluster-a", "worker-2", p -> {});
        MqttTransportTest.retry(ch2);
        assertEquals("worker-2", askers.get(askers.size() - 1));

        // 2. worker-2 claims worker-1's identity on a channel: the broker drops the publish.
        int before = calls.get();
        ClientChannel spoof = w2.connect("cluster-a", "worker-1", p -> {});
        assertThrows(Exception.class, () -> spoof.request(query(), Duration.ofMillis(1500)).toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertEquals(before, calls.get(), "no request reached the manager under worker-1's name");

        // 3. Raw publishes by worker-2 on other nodes' topics are refused by the broker.
        CompletableFuture<String> eavesdropped = new CompletableFuture<>();
        MqttAsyncClient rogue = rawTls(broker, pki.context("worker-2", "ca"), "worker-2-raw",
            (t, m) -> eavesdropped.complete(t));
        try {
          int[] forgedRequest = publish(rogue, "semnet/cluster-a/c2m/worker-1",
              "{\"v\":1,\"kind\":\"request\",\"id\":1,\"type\":\"query\",\"key\":{\"address\":\"100.65.0.1\"},\"register\":true}");
          int[] forgedPush = publish(rogue, "semnet/cluster-a/m2c/worker-1",
              "{\"v\":1,\"kind\":\"push\",\"type\":\"removal\",\"removal\":{\"service\":\"" + SVC + "\",\"version\":99}}");
          int[] forgedState = publish(rogue, "semnet/cluster-a/state", "{\"v\":1,\"kind\":\"state\",\"up\":false}");
          int[] forgedAlive = publish(rogue, "semnet/cluster-a/alive", "{\"v\":1,\"kind\":\"alive\",\"up\":false}");
          for (int[] codes : List.of(forgedRequest, forgedPush, forgedState, forgedAlive)) {
            assertEquals(0x87, codes[0], "broker answers NOT AUTHORIZED");
          }
          // mosquitto grants the subscription but checks read access per delivered message:
          // the eavesdropper must receive none of the genuine traffic that follows.
          rogue.subscribe(new String[] {"semnet/cluster-a/m2c/worker-1", "semnet/cluster-a/c2m/+"}, new int[] {1, 1})
              .waitForCompletion(5000);
          assertEquals(genuine, ((QueryReply) ch1.request(query(), T).toCompletableFuture().get(10, TimeUnit.SECONDS)).record());
          assertTrue(b.push("worker-1", new RecordPush(genuine)));
          await("second genuine push", T, () -> pushesToW1.size() == 2);
          Thread.sleep(200);
          assertFalse(eavesdropped.isDone(), "worker-2 received nothing addressed to others");
        } finally {
          rogue.disconnect().waitForCompletion(2000);
          rogue.close();
        }

        // 4. worker-2 tries to stand in for the manager: its subscription is refused, it hears nothing.
        AtomicInteger impostorCalls = new AtomicInteger();
        w2.bind("cluster-a", (client, req) -> {
          impostorCalls.incrementAndGet();
          return CompletableFuture.completedFuture(QueryReply.notFound("impostor"));
        });

        // Nothing of the above had an effect: the worker still reaches the real manager, got no
        // forged push, nobody eavesdropped, the impostor saw no request.
        int n = calls.get();
        assertEquals(genuine, ((QueryReply) ch1.request(query(), T).toCompletableFuture().get(10, TimeUnit.SECONDS)).record());
        assertEquals(n + 1, calls.get());
        Thread.sleep(300);
        assertEquals(2, pushesToW1.size(), "no forged push was delivered");
        assertEquals(0, impostorCalls.get());
        assertEquals(0, w1.rejectedMessages(), "nothing forged even reached worker-1");
      }

      // 5. No certificate, or one of another CA: the TLS handshake fails.
      assertThrows(MqttException.class, () -> rawTls(broker, pki.context(null, "ca"), "anon", (t, m) -> {}));
      assertThrows(MqttException.class, () -> rawTls(broker, pki.context("stranger", "ca"), "stranger", (t, m) -> {}));
    }
  }

  private static Query query() throws Exception {
    return new Query(QueryKey.of(InetAddress.getByName("100.65.0.1")), true);
  }

  private static MqttTransport node(MosquittoBroker broker, TestPki pki, String id) throws Exception {
    return MqttTestSupport.started(MqttTransport.builder().brokerUri(broker.sslUri()).clientId(id)
        .tls(pki.context(id, "ca")).reconnectDelay(Duration.ofMillis(50), Duration.ofMillis(500)));
  }

  private static MqttAsyncClient rawTls(MosquittoBroker broker, SSLContext ctx, String id,
      java.util.function.BiConsumer<String, org.eclipse.paho.mqttv5.common.MqttMessage> onMessage) throws MqttException {
    MqttAsyncClient c = new MqttAsyncClient(broker.sslUri(), id, new MemoryPersistence());
    c.setCallback(new MqttTestSupport.Listener(onMessage));
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setSocketFactory(ctx.getSocketFactory());
    o.setCleanStart(true);
    o.setConnectionTimeout(5);
    try {
      c.connect(o).waitForCompletion(10_000);
    } catch (MqttException e) {
      c.close(true);
      throw e;
    }
    return c;
  }

  /** Publishes at QoS 1 and returns the broker's PUBACK reason codes. */
  private static int[] publish(MqttAsyncClient c, String topic, String payload) throws MqttException {
    IMqttToken t = c.publish(topic, payload.getBytes(StandardCharsets.UTF_8), 1, false);
    t.waitForCompletion(5000);
    return t.getReasonCodes();
  }
}
