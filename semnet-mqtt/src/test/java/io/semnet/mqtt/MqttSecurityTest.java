package io.semnet.mqtt;

import io.semnet.control.ControlPlaneBehaviourTest;
import io.semnet.control.Orchestration;
import io.semnet.control.ServiceDescriptor;
import io.semnet.control.ServiceManager;
import io.semnet.control.TestPolicies;
import io.semnet.resolver.NodeRegistration;
import io.semnet.resolver.WorkerResolver;

import io.semnet.control.TestTime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.Addresses;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.route.Resolution;
import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RootAuthority;
import io.semnet.resolver.protocol.RecordPush;
import io.semnet.resolver.protocol.SignedRecord;
import io.semnet.resolver.protocol.WireCodec;
import io.semnet.control.store.RootStore;
import io.semnet.mqtt.internal.MosquittoAcl;
import io.semnet.mqtt.MqttNodes;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The MQTT transport behind TLS with a client certificate per node (the certificate's CN is the MQTT
 * user) and topic ACLs: the control plane works, a certified party cannot impersonate a node or
 * push to it, and a client without a certificate cannot connect.
 */
class MqttSecurityTest {
  static final String ACL = MosquittoAcl.forManagers("semnet", List.of("root", "c1"));

  @TempDir Path dir;

  private void openssl(String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of("openssl"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("openssl " + cmd + " failed: " + out);
    }
  }

  private void certificate(String name, boolean server) throws Exception {
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-subj", "/CN=" + name, "-out", name + ".csr");
    Files.writeString(dir.resolve(name + ".ext"), server ? "subjectAltName=IP:127.0.0.1\n" : "extendedKeyUsage=clientAuth\n");
    openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
        "-extfile", name + ".ext", "-out", name + ".pem");
    if (!server) {
      openssl("pkcs12", "-export", "-in", name + ".pem", "-inkey", name + ".key", "-out", name + ".p12", "-passout", "pass:changeit");
    }
  }

  private SSLContext tls(String identity) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(dir.resolve("ca.pem"))) {
      trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    KeyManagerFactory kmf = null;
    if (identity != null) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(dir.resolve(identity + ".p12"))) {
        ks.load(in, "changeit".toCharArray());
      }
      kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, "changeit".toCharArray());
    }
    SSLContext ctx = SSLContext.getInstance("TLSv1.3");
    ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx;
  }

  @Test
  void tlsWithPerNodeCertificatesAndTopicAcls() throws Exception {
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-subj", "/CN=semnet-test-ca", "-days", "2", "-out", "ca.pem");
    certificate("broker", true);
    for (String id : new String[] {"root", "c1", "w1", "mallory"}) {
      certificate(id, false);
    }
    Files.writeString(dir.resolve("acl"), ACL);
    String conf = "cafile " + dir.resolve("ca.pem") + "\ncertfile " + dir.resolve("broker.pem") + "\nkeyfile " + dir.resolve("broker.key")
         + "\nrequire_certificate true\nuse_identity_as_username true\nuse_username_as_clientid true\nallow_anonymous false\nacl_file " + dir.resolve("acl") + "\n";
    RootAuthority authority = RootAuthority.generate();
    TestTime time = new TestTime();
    try (Mosquitto broker = new Mosquitto(dir, conf)) {
      String uri = "ssl://127.0.0.1:" + broker.port();
      MqttNodes transport = MqttNodes.over(uri, id -> {
        try {
          return tls(id);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      ServiceManager root = ServiceManager.root().id("root").transport(transport).authority(authority)
          .plan(AddressPlan.builder().ipv6(null).build()).policyRegistry(TestPolicies.registry())
          .platformPolicies(Set.of("first", "near")).store(RootStore.inMemory()).clock(time).maintenanceInterval(Duration.ZERO).build();
      ServiceManager c1 = ServiceManager.cluster().id("c1").upstream("root").transport(transport).rootTrust(authority.trust())
          .policyRegistry(TestPolicies.registry()).clock(time).maintenanceInterval(Duration.ZERO).build();
      Orchestration o = root.orchestration();
      NodeRegistration w1reg = o.registerNode("c1", ControlPlaneBehaviourTest.endpoint("w1"), GeoPoint.of(1, 1));
      NodeRegistration n2 = o.registerNode("c1", ControlPlaneBehaviourTest.endpoint("n2"), GeoPoint.of(2, 2));
      ServiceId client = ServiceId.of("app", "a", "client", "prod");
      o.deploy(ServiceDescriptor.builder(client).instances(1).build());
      o.placeInstance(client, 0, Locator.of(w1reg.subnetV4().addressAt(2), null, w1reg.endpoint(), 0));
      ServiceId api = ServiceId.of("app", "a", "api", "prod");
      o.deploy(ServiceDescriptor.builder(api).instances(1).build());
      ServiceRecord rec = o.placeInstance(api, 0, Locator.of(n2.subnetV4().addressAt(2), null, n2.endpoint(), 0));
      ControlPlaneBehaviourTest.await(() -> c1.record(api) != null && c1.record(client) != null, "cluster got its deployments over TLS");
      WorkerResolver w1 = WorkerResolver.builder().nodeId("w1").manager("c1").transport(transport).rootTrust(authority.trust())
          .ticker(time).maintenanceInterval(Duration.ZERO).build().start();
      try {
        InetAddress sip = rec.serviceIp("first", true).address();
        Resolution r = w1.resolve(sip).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertTrue(r.isFound(), r.toString());
        long version = r.route().record().version();

        // Mallory holds a valid certificate, but for herself. She replays a root-signed, newer
        // record to w1's push topic and impersonates w1 towards c1: the broker's ACL drops both.
        ServiceRecord replay = ServiceRecord.of(api, version + 100, rec.serviceIps(), rec.instances());
        com.fasterxml.jackson.databind.node.ObjectNode pushJson = WireCodec.toJson(new RecordPush(SignedRecord.sign(replay, authority)));
        pushJson.put("kind", "push");
        byte[] push = pushJson.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        MqttConnectionOptions opts = new MqttConnectionOptions();
        opts.setSocketFactory(tls("mallory").getSocketFactory());
        MqttClient mallory = new MqttClient(uri, "mallory", new MemoryPersistence());
        mallory.connect(opts);
        CompletableFuture<String> ownReply = new CompletableFuture<>();
        try {
          mallory.subscribe("semnet/c1/m2c/mallory", 1);
          mallory.setCallback(new org.eclipse.paho.mqttv5.client.MqttCallback() {
            @Override
            public void disconnected(org.eclipse.paho.mqttv5.client.MqttDisconnectResponse d) {}

            @Override
            public void mqttErrorOccurred(MqttException e) {}

            @Override
            public void messageArrived(String topic, org.eclipse.paho.mqttv5.common.MqttMessage m) {
              ownReply.complete(topic);
            }

            @Override
            public void deliveryComplete(org.eclipse.paho.mqttv5.client.IMqttToken t) {}

            @Override
            public void connectComplete(boolean reconnect, String serverURI) {}

            @Override
            public void authPacketArrived(int reasonCode, org.eclipse.paho.mqttv5.common.packet.MqttProperties p) {}
          });
          publishIgnoringDenial(mallory, "semnet/c1/m2c/w1", push);
          publishIgnoringDenial(mallory, "semnet/c1/c2m/w1",
              "{\"v\":1,\"kind\":\"request\",\"type\":\"drop\",\"id\":7,\"services\":[\"app.a.api.prod\"]}".getBytes());
          // Control: what mallory may do reaches c1 and is answered (so the broker works for her).
          mallory.publish("semnet/c1/c2m/mallory",
              "{\"v\":1,\"kind\":\"request\",\"type\":\"hello\",\"id\":1,\"node\":\"mallory\",\"role\":\"worker\"}".getBytes(), 1, false);
          assertEquals("semnet/c1/m2c/mallory", ownReply.get(10, TimeUnit.SECONDS));
        } finally {
          mallory.disconnect();
          mallory.close();
        }
        Thread.sleep(300);
        assertEquals(version, w1.record(api).version(), "the replayed push never reached w1");
        assertTrue(c1.interestedClients(api).contains("w1"), "the impersonated drop never reached c1");

        // Without a client certificate there is no connection at all.
        MqttConnectionOptions anon = new MqttConnectionOptions();
        anon.setSocketFactory(tls(null).getSocketFactory());
        anon.setConnectionTimeout(5);
        MqttClient nobody = new MqttClient(uri, "nobody", new MemoryPersistence());
        assertThrows(MqttException.class, () -> nobody.connect(anon));
        nobody.close();
        assertTrue(Addresses.format(sip).startsWith("172.30."));
      } finally {
        w1.close();
        c1.close();
        root.close();
        transport.close();
      }
    }
  }

  private static void publishIgnoringDenial(MqttClient c, String topic, byte[] payload) {
    try {
      c.publish(topic, payload, 1, false);
    } catch (MqttException e) {
      // MQTT 5 brokers may answer a denied publish with "not authorized"; either way it is dropped.
    }
  }
}
