package io.semnet.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.control.BrokerCrl;
import io.semnet.control.EnrolmentService;
import io.semnet.control.ServiceManager;
import io.semnet.control.X509CertificateIssuer;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.trust.RootAuthority;
import io.semnet.resolver.enrol.Enrolled;
import io.semnet.resolver.enrol.Enrolment;
import io.semnet.resolver.enrol.JoinToken;
import io.semnet.resolver.transport.InProcessTransport;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker refuses a deregistered node (issue 14 item 4), with the real mosquitto under mutual TLS
 * and a CRL: two nodes enrol at the root and get MQTT client certificates from the platform CA (the
 * JDK issuer; the CA and the broker certificate are made by openssl), and both connect; the root
 * deregisters one, {@link BrokerCrl} writes the CA's CRL naming its certificate's serial and
 * reloads the broker (SIGHUP); that node's certificate can no longer connect, the other's still
 * can, and openssl agrees that the certificate is revoked.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BrokerRevocationTest {
  private static final char[] PASS = "changeit".toCharArray();

  @Test
  void aDeregisteredNodesClientCertificateCanNoLongerConnect(@TempDir Path tmp) throws Exception {
    Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    Path dir = Files.createDirectory(tmp.resolve("pki"));
    TestPki pki = TestPki.create(dir, "ca");
    pki.broker("ca");
    Files.writeString(dir.resolve("acl"), "pattern readwrite semnet/%u/#\n");
    X509Certificate caCert = (X509Certificate) CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(dir.resolve("ca.crt"))));
    X509CertificateIssuer issuer = new X509CertificateIssuer(pemKey(dir.resolve("ca.key")), caCert);
    Path crl = dir.resolve("crl.pem");

    InProcessTransport transport = InProcessTransport.builder().threads(2).build();
    ServiceManager root = ServiceManager.root().id("root").transport(transport).authority(RootAuthority.generate())
        .plan(AddressPlan.defaults()).platformPolicies(Set.of("rr")).maintenanceInterval(Duration.ZERO).build();
    AtomicReference<MosquittoBroker> running = new AtomicReference<>();
    BrokerCrl brokerCrl = BrokerCrl.attach(root, issuer, crl, () -> {
      MosquittoBroker b = running.get();
      if (b != null) {
        b.reload();
      }
    });
    assertEquals(1, brokerCrl.written(), "an empty CRL to start the broker with");
    pki.makeReadable();
    try (EnrolmentService enrol = EnrolmentService.bind(root, transport, Enrolment.DEFAULT_SERVICE_ID, issuer);
        MosquittoBroker broker = MosquittoBroker.start(dir, MosquittoBroker.mutualTlsConfig(dir) + "crlfile " + crl + "\n")) {
      running.set(broker);
      KeyPair k1 = ec();
      KeyPair k2 = ec();
      Enrolled w1 = enrol(root, transport, "w1", k1);
      Enrolled w2 = enrol(root, transport, "w2", k2);
      X509Certificate c1 = x509(w1.mqttCertificate());
      assertEquals(w1.registration().certificate().serial(), c1.getSerialNumber().longValueExact(),
          "the client certificate carries the node certificate's serial");
      SSLContext tls1 = context(k1, c1, caCert);
      SSLContext tls2 = context(k2, x509(w2.mqttCertificate()), caCert);
      connectAndClose(broker, tls1, "w1");
      connectAndClose(broker, tls2, "w2");

      long t0 = System.nanoTime();
      root.orchestration().deregisterNode("w1");
      assertEquals(2, brokerCrl.written());
      // mosquitto re-reads the CRL on SIGHUP; its reload runs in its main loop, so wait for it
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      MqttException refused = null;
      while (refused == null && System.nanoTime() < end) {
        try {
          connectAndClose(broker, tls1, "w1");
          Thread.sleep(100);
        } catch (MqttException e) {
          refused = e;
        }
      }
      assertTrue(refused != null, "the revoked certificate was still accepted after 10 s: " + broker.log());
      System.out.printf("deregistration to broker refusal: %.0f ms (%s)%n", (System.nanoTime() - t0) / 1e6, refused);
      assertThrows(MqttException.class, () -> connectAndClose(broker, tls1, "w1"));
      connectAndClose(broker, tls2, "w2");

      Files.write(dir.resolve("w1.crt"), pem(c1.getEncoded()).getBytes(StandardCharsets.US_ASCII));
      Process p = new ProcessBuilder("openssl", "verify", "-crl_check", "-CAfile", dir.resolve("ca.crt").toString(), "-CRLfile",
          crl.toString(), dir.resolve("w1.crt").toString()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor(10, TimeUnit.SECONDS);
      assertTrue(out.contains("certificate revoked"), out);
    } finally {
      root.close();
      transport.close();
    }
  }

  private static Enrolled enrol(ServiceManager root, InProcessTransport transport, String id, KeyPair mqttKey) {
    JoinToken t = root.orchestration().issueJoinToken("c1", Duration.ofMinutes(5), true);
    byte[] tunnelKey = new byte[32];
    new SecureRandom().nextBytes(tunnelKey);
    WorkerEndpoint ep = WorkerEndpoint.of(id, new InetSocketAddress("192.0.2.9", 51820), tunnelKey);
    return Enrolment.enrol(transport, t.token(), t.rootKeyHash(), ep, null, mqttKey.getPublic().getEncoded());
  }

  private static void connectAndClose(MosquittoBroker broker, SSLContext tls, String id) throws MqttException {
    MqttAsyncClient c = new MqttAsyncClient(broker.sslUri(), id, new MemoryPersistence());
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setSocketFactory(tls.getSocketFactory());
    o.setCleanStart(true);
    o.setConnectionTimeout(5);
    try {
      c.connect(o).waitForCompletion(10_000);
      c.disconnect().waitForCompletion(5_000);
    } finally {
      c.close(true);
    }
  }

  private static KeyPair ec() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(256);
    return g.generateKeyPair();
  }

  private static X509Certificate x509(byte[] der) throws Exception {
    return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
  }

  /** The PKCS#8 PEM key openssl wrote. */
  private static PrivateKey pemKey(Path file) throws Exception {
    String b64 = Files.readString(file).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(b64)));
  }

  private static String pem(byte[] der) {
    return "-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der) + "\n-----END CERTIFICATE-----\n";
  }

  private static SSLContext context(KeyPair key, X509Certificate cert, X509Certificate ca) throws Exception {
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    keys.setKeyEntry("node", key.getPrivate(), PASS, new Certificate[] {cert, ca});
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, PASS);
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", ca);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx;
  }
}
