package io.semnet.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Network namespaces, links and processes for one test, all removed by {@link #close()} (also when
 * the test fails, and by a shutdown hook if the JVM dies first). Names carry a random per-fixture
 * tag so parallel or leftover runs never collide. Test traffic stays inside what this creates.
 *
 * <pre>{@code
 * try (TestNetwork net = new TestNetwork()) {
 *   String a = net.namespace("a");
 *   net.exec(a, "ip", "link", "set", "lo", "up");
 * }
 * }</pre>
 */
public final class TestNetwork implements AutoCloseable {
  private final String tag = "sn" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff));
  private final Deque<Runnable> cleanups = new ArrayDeque<>();
  private final Thread hook = new Thread(this::cleanup, "test-network-cleanup");
  private boolean closed;

  public TestNetwork() {
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** True if this process can create network namespaces (root with iproute2). */
  public static boolean isPrivileged() {
    try {
      Process p = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
      String uid = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      p.waitFor();
      return uid.equals("0")
          && (Files.isExecutable(Path.of("/usr/sbin/ip")) || Files.isExecutable(Path.of("/sbin/ip")) || Files.isExecutable(Path.of("/usr/bin/ip")));
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** This fixture's unique tag; prefix of every name it creates. */
  public String tag() {
    return tag;
  }

  /** A short name unique to this fixture, usable as an interface name (at most 15 characters). */
  public String name(String suffix) {
    String n = tag + suffix;
    if (n.length() > 15) {
      throw new IllegalArgumentException("name '" + n + "' is longer than an interface name may be");
    }
    return n;
  }

  /** Creates network namespace {@code <tag>-<shortName>} with loopback up; returns its name. */
  public String namespace(String shortName) {
    String ns = tag + "-" + shortName;
    run("ip", "netns", "add", ns);
    cleanups.push(() -> {
      quiet("ip", "netns", "pids", ns).lines().forEach(pid -> quiet("kill", "-9", pid.trim()));
      quiet("ip", "netns", "del", ns);
      deleteTree(Path.of("/etc/netns", ns));
    });
    exec(ns, "ip", "link", "set", "lo", "up");
    return ns;
  }

  /**
   * Creates a veth pair with one end in each namespace (null = the host namespace), brings both up
   * and gives each end an address (CIDR, null for none).
   */
  public void veth(String nsA, String ifA, String cidrA, String nsB, String ifB, String cidrB) {
    run("ip", "link", "add", ifA, "type", "veth", "peer", "name", ifB);
    cleanups.push(() -> quiet("ip", "link", "del", ifA));
    if (nsA != null) {
      run("ip", "link", "set", ifA, "netns", nsA);
    }
    if (nsB != null) {
      run("ip", "link", "set", ifB, "netns", nsB);
    }
    up(nsA, ifA, cidrA);
    up(nsB, ifB, cidrB);
  }

  private void up(String ns, String ifName, String cidr) {
    if (cidr != null) {
      exec(ns, "ip", "addr", "add", cidr, "dev", ifName);
    }
    exec(ns, "ip", "link", "set", ifName, "up");
  }

  /** Writes {@code /etc/netns/<ns>/resolv.conf} so glibc in that namespace asks {@code nameserver}. */
  public void resolvConf(String ns, String nameserver) {
    try {
      Path dir = Path.of("/etc/netns", ns);
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("resolv.conf"), "nameserver " + nameserver + "\noptions timeout:1 attempts:1\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Runs a command in a namespace (null = host); fails the test on a non-zero exit. Returns stdout. */
  public String exec(String ns, String... cmd) {
    Result r = tryExec(ns, 60, cmd);
    if (r.exitCode != 0) {
      throw new IllegalStateException("command failed (" + r.exitCode + "): " + String.join(" ", cmd) + "\n" + r.output);
    }
    return r.output;
  }

  /** Runs a command in a namespace (null = host) with a timeout in seconds; returns exit code and output. */
  public Result tryExec(String ns, int timeoutSeconds, String... cmd) {
    List<String> full = new ArrayList<>();
    if (ns != null) {
      full.addAll(List.of("ip", "netns", "exec", ns));
    }
    full.addAll(Arrays.asList(cmd));
    try {
      Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
      byte[] out;
      try (InputStream in = p.getInputStream()) {
        Thread reader = null;
        ByteCollector c = new ByteCollector(in);
        reader = new Thread(c, "exec-reader");
        reader.setDaemon(true);
        reader.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          p.waitFor(5, TimeUnit.SECONDS);
          reader.join(1000);
          return new Result(-1, "timed out after " + timeoutSeconds + "s: " + String.join(" ", full) + "\n" + c.text());
        }
        reader.join(5000);
        out = c.bytes();
      }
      return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Starts a long-running process in a namespace (null = host); killed on close. Output goes to a temp file. */
  public Process start(String ns, String... cmd) {
    List<String> full = new ArrayList<>();
    if (ns != null) {
      full.addAll(List.of("ip", "netns", "exec", ns));
    }
    full.addAll(Arrays.asList(cmd));
    try {
      Path log = Files.createTempFile(tag + "-proc", ".log");
      Process p = new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      cleanups.push(() -> {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
          p.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        try {
          Files.deleteIfExists(log);
        } catch (IOException ignored) {
          // best effort
        }
      });
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Registers an extra cleanup step, run (in reverse order of registration) on close. */
  public void onClose(Runnable cleanup) {
    cleanups.push(cleanup);
  }

  private void run(String... cmd) {
    exec(null, cmd);
  }

  private String quiet(String... cmd) {
    try {
      Result r = tryExec(null, 20, cmd);
      return r.exitCode == 0 ? r.output : "";
    } catch (RuntimeException e) {
      return "";
    }
  }

  private static void deleteTree(Path p) {
    try {
      if (Files.exists(p)) {
        try (var s = Files.walk(p)) {
          s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(x -> x.toFile().delete());
        }
      }
    } catch (IOException ignored) {
      // best effort
    }
  }

  private synchronized void cleanup() {
    while (!cleanups.isEmpty()) {
      try {
        cleanups.pop().run();
      } catch (RuntimeException e) {
        System.err.println("test network cleanup step failed: " + e);
      }
    }
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    cleanup();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException ignored) {
      // JVM already shutting down
    }
  }

  /** Exit code and combined output of a command. */
  public static final class Result {
    public final int exitCode;
    public final String output;

    Result(int exitCode, String output) {
      this.exitCode = exitCode;
      this.output = output;
    }

    @Override
    public String toString() {
      return "exit " + exitCode + ": " + output;
    }
  }

  private static final class ByteCollector implements Runnable {
    private final InputStream in;
    private final java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();

    ByteCollector(InputStream in) {
      this.in = in;
    }

    @Override
    public void run() {
      byte[] b = new byte[8192];
      try {
        int n;
        while ((n = in.read(b)) > 0) {
          synchronized (buf) {
            buf.write(b, 0, n);
          }
        }
      } catch (IOException ignored) {
        // process ended
      }
    }

    byte[] bytes() {
      synchronized (buf) {
        return buf.toByteArray();
      }
    }

    String text() {
      return new String(bytes(), StandardCharsets.UTF_8);
    }
  }
}
