package io.semnet.agent;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Starts the agent's and controller's main classes as separate JVMs on this test's class path
 * (what the shaded jars hold), with their output in files; {@link #close()} kills whatever still runs.
 */
final class Launcher implements AutoCloseable {
  private final Path dir;
  private final List<Process> processes = new ArrayList<>();

  Launcher(Path dir) {
    this.dir = dir;
  }

  /** A JVM running {@code main} with {@code args}; stdout and stderr go to {@code dir/name.log}. */
  Process start(String name, Class<?> main, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss512k", "-cp", System.getProperty("java.class.path"), main.getName()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log(name).toFile()))
        .start();
    synchronized (processes) {
      processes.add(p);
    }
    return p;
  }

  /** Runs {@code main} to its end (at most 60 s); returns exit code and output. */
  Result run(String name, Class<?> main, String... args) throws Exception {
    return finish(name, start(name, main, args));
  }

  /** Waits (at most 60 s) for {@code p}, started as {@code name}, to end; returns exit code and output. */
  Result finish(String name, Process p) throws Exception {
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(name + " did not finish in 60 s: " + read(name));
    }
    return new Result(p.exitValue(), read(name));
  }

  Path log(String name) {
    return dir.resolve(name + ".log");
  }

  String read(String name) {
    try {
      return Files.exists(log(name)) ? Files.readString(log(name), StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }

  /** SIGTERM, then waits (at most 30 s) for the exit. */
  static int terminate(Process p) throws InterruptedException {
    p.destroy();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("process " + p.pid() + " ignored SIGTERM for 30 s");
    }
    return p.exitValue();
  }

  /** GET {@code url}: status and body, or status -1 if nothing answers. */
  static Result get(String url) {
    try {
      HttpURLConnection c = (HttpURLConnection) new URL(url).openConnection();
      c.setConnectTimeout(1000);
      c.setReadTimeout(3000);
      int status = c.getResponseCode();
      var in = status >= 400 ? c.getErrorStream() : c.getInputStream();
      String body = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return new Result(status, body);
    } catch (IOException e) {
      return new Result(-1, e.toString());
    }
  }

  static boolean listening(int port) {
    try (java.net.Socket s = new java.net.Socket()) {
      s.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  static void waitFor(BooleanSupplier condition, int seconds, java.util.function.Supplier<String> what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + seconds + " s: " + what.get());
      }
      Thread.sleep(100);
    }
  }

  @Override
  public void close() {
    synchronized (processes) {
      for (Process p : processes) {
        p.destroyForcibly();
      }
      for (Process p : processes) {
        try {
          p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  record Result(int code, String output) {}
}
