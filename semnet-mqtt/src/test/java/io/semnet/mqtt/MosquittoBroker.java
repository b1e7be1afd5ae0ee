package io.semnet.mqtt;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real Debian mosquitto for tests: listens on a free port of 127.0.0.1 only, configured from a
 * generated file in its own temp dir; {@link #close} stops the process and removes the dir (use it
 * in try-with-resources so that also happens on failure). {@link #restart} stops and starts it
 * again on the same port, which loses its retained messages as a real restart without persistence
 * would.
 */
final class MosquittoBroker implements AutoCloseable {
  static final Path BINARY = Path.of("/usr/sbin/mosquitto");

  /**
   * Broker configuration for mutual TLS with the {@link TestPki} files in {@code dir}: a client
   * certificate is required, its CN is the user name and client id, and {@code dir/acl} applies.
   */
  static String mutualTlsConfig(Path dir) {
    return "cafile " + dir.resolve("ca.crt") + "\n"
        + "certfile " + dir.resolve("broker.crt") + "\n"
        + "keyfile " + dir.resolve("broker.key") + "\n"
        + "require_certificate true\n"
        + "use_identity_as_username true\n"
        + "use_username_as_clientid true\n"
        + "allow_anonymous false\n"
        + "acl_file " + dir.resolve("acl") + "\n";
  }

  private final Path dir;
  private final int port;
  private final Path config;
  private Process process;

  private MosquittoBroker(Path dir, int port, String extraConfig) throws IOException {
    this.dir = dir;
    this.port = port;
    this.config = dir.resolve("mosquitto.conf");
    String conf = "listener " + port + " 127.0.0.1\n"
        + "persistence false\n"
        + "log_dest stdout\n"
        + "log_type error\nlog_type warning\nlog_type notice\n"
        + "max_inflight_messages 20\n"
        + "set_tcp_nodelay true\n"
        + (extraConfig == null ? "allow_anonymous true\n" : extraConfig);
    Files.writeString(config, conf);
  }

  /** An anonymous plain-TCP broker. */
  static MosquittoBroker start() throws IOException {
    return start(null, null);
  }

  /**
   * A broker with {@code extraConfig} appended to the listener line (e.g. TLS and ACL settings);
   * {@code dir} is the temp dir to use (created if null) and removed on close.
   */
  static MosquittoBroker start(Path dir, String extraConfig) throws IOException {
    Path d = dir != null ? dir : Files.createTempDirectory("semnet-mosquitto-");
    MosquittoBroker b = new MosquittoBroker(d, freePort(), extraConfig);
    try {
      b.launch();
    } catch (IOException | RuntimeException e) {
      b.close();
      throw e;
    }
    return b;
  }

  int port() {
    return port;
  }

  String tcpUri() {
    return "tcp://127.0.0.1:" + port;
  }

  String sslUri() {
    return "ssl://127.0.0.1:" + port;
  }

  Path dir() {
    return dir;
  }

  String log() {
    try {
      Path p = dir.resolve("stdout.log");
      return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "(log unreadable: " + e + ")";
    }
  }

  /** Stops the broker (abruptly, as a crash would) and leaves the port free. */
  void stop() {
    if (process != null) {
      process.destroyForcibly();
      try {
        process.waitFor(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      process = null;
    }
  }

  /** Starts the broker again on the same port and configuration. */
  void startAgain() throws IOException {
    launch();
  }

  /** Makes mosquitto re-read its configuration (SIGHUP), e.g. a regenerated {@code crlfile}, without dropping clients. */
  void reload() {
    try {
      Process p = new ProcessBuilder("kill", "-HUP", Long.toString(process.pid())).redirectErrorStream(true).start();
      if (!p.waitFor(5, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("kill -HUP mosquitto failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    }
  }

  void restart() throws IOException {
    stop();
    launch();
  }

  private void launch() throws IOException {
    ProcessBuilder pb = new ProcessBuilder(BINARY.toString(), "-c", config.toString())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("stdout.log").toFile()));
    process = pb.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException("mosquitto exited with " + process.exitValue() + ": " + log());
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
        return;
      } catch (IOException e) {
        try {
          Thread.sleep(20);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted");
        }
      }
    }
    stop();
    throw new IOException("mosquitto did not listen on " + port + " within 10 s: " + log());
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    }
  }

  @Override
  public void close() {
    stop();
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (IOException | UncheckedIOException e) {
      // best effort: a leftover temp dir is harmless, a masked test failure is not
    }
  }
}
