package io.semnet.mqtt;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A real mosquitto broker on a free loopback port, for tests; stopped (and restartable) on demand, killed on close. */
final class Mosquitto implements AutoCloseable {
  private final Path dir;
  private final int port;
  private final String extraConfig;
  private Process process;

  Mosquitto(Path dir, String extraConfig) throws IOException {
    this.dir = dir;
    this.extraConfig = extraConfig;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      this.port = s.getLocalPort();
    }
    start();
  }

  static Mosquitto plain(Path dir) throws IOException {
    return new Mosquitto(dir, "allow_anonymous true\n");
  }

  int port() {
    return port;
  }

  String uri() {
    return "tcp://127.0.0.1:" + port;
  }

  synchronized void start() throws IOException {
    Path conf = dir.resolve("mosquitto.conf");
    // Started as root, mosquitto would switch to its own user and lose access to the test's
    // private temporary directory (certificates, keys); it only listens on loopback.
    String user = "root".equals(System.getProperty("user.name")) ? "user root\n" : "";
    Files.writeString(conf, "listener " + port + " 127.0.0.1\npersistence false\nlog_dest stderr\n" + user + extraConfig);
    process = new ProcessBuilder("mosquitto", "-c", conf.toString()).redirectErrorStream(true)
        .redirectOutput(dir.resolve("mosquitto.out").toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException e) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          throw new IOException("mosquitto did not start: " + Files.readString(dir.resolve("mosquitto.out")), e);
        }
        try {
          Thread.sleep(20);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted", ie);
        }
      }
    }
  }

  synchronized void stop() throws InterruptedException {
    if (process != null) {
      process.destroy();
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
      process = null;
    }
  }

  @Override
  public void close() {
    try {
      stop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      if (process != null) {
        process.destroyForcibly();
      }
    }
  }
}
