package io.semnet.mqtt;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A throw-away PKI made with the real {@code openssl} in a test's temp dir: a CA, a broker
 * certificate for 127.0.0.1 and per-node client certificates whose CN is the node id (mosquitto's
 * {@code use_identity_as_username} turns it into the user name the ACL is written for).
 */
final class TestPki {
  private static final char[] PASS = "changeit".toCharArray();
  private final Path dir;

  private TestPki(Path dir) {
    this.dir = dir;
  }

  /** Creates the CA ({@code name}.crt/.key) and the broker certificate in {@code dir}. */
  static TestPki create(Path dir, String caName) throws IOException {
    TestPki p = new TestPki(dir);
    p.ca(caName);
    return p;
  }

  Path dir() {
    return dir;
  }

  private void ca(String name) throws IOException {
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", name + ".key", "-out", name + ".crt", "-days", "1", "-subj", "/CN=" + name);
  }

  /** The broker's certificate, signed by {@code ca}, valid for IP 127.0.0.1. */
  void broker(String ca) throws IOException {
    Files.writeString(dir.resolve("broker.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "broker.key", "-out", "broker.csr", "-subj", "/CN=mosquitto");
    openssl("x509", "-req", "-in", "broker.csr", "-CA", ca + ".crt", "-CAkey", ca + ".key", "-CAcreateserial",
        "-out", "broker.crt", "-days", "1", "-extfile", "broker.ext");
  }

  /** A client certificate with CN {@code node}, signed by {@code ca}, and its PKCS#12 bundle. */
  void node(String node, String ca) throws IOException {
    Files.writeString(dir.resolve(node + ".ext"), "extendedKeyUsage=clientAuth\n");
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", node + ".key", "-out", node + ".csr", "-subj", "/CN=" + node);
    openssl("x509", "-req", "-in", node + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key", "-CAcreateserial",
        "-out", node + ".crt", "-days", "1", "-extfile", node + ".ext");
    openssl("pkcs12", "-export", "-in", node + ".crt", "-inkey", node + ".key", "-name", node,
        "-out", node + ".p12", "-passout", "pass:" + new String(PASS));
  }

  /** mosquitto (which drops root to its own user) must be able to read the files. */
  void makeReadable() throws IOException {
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    try (var s = Files.list(dir)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
      }
    }
  }

  /** TLS context of {@code node} (null: no client certificate), trusting {@code ca}. */
  SSLContext context(String node, String ca) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(dir.resolve(ca + ".crt"))) {
      trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    KeyManagerFactory kmf = null;
    if (node != null) {
      KeyStore keys = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(dir.resolve(node + ".p12"))) {
        keys.load(in, PASS);
      }
      kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, PASS);
    }
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx;
  }

  private void openssl(String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add("openssl");
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IOException("openssl " + String.join(" ", args) + " failed: " + out);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
  }
}
