package io.semnet.samples.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs real programs (curl, ping, iperf3, python servers) inside the cluster's network namespaces.
 * Outputs are captured; long-running servers are returned as processes the cluster kills on close.
 */
public final class Shell {
  private Shell() {}

  /** Exit code and combined output of a finished command. */
  public record Result(int exitCode, String output) {
    public boolean ok() {
      return exitCode == 0;
    }
  }

  /** Runs {@code cmd} in namespace {@code ns} (null = here) with a timeout; never throws on failure. */
  public static Result run(String ns, int timeoutSeconds, String... cmd) {
    List<String> full = inNamespace(ns, cmd);
    try {
      Path out = Files.createTempFile("semnet-shell", ".out");
      try {
        Process p = new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
          p.descendants().forEach(ProcessHandle::destroyForcibly);
          p.destroyForcibly();
          p.waitFor(5, TimeUnit.SECONDS);
          return new Result(-1, "timed out after " + timeoutSeconds + " s: " + String.join(" ", full) + "\n" + Files.readString(out));
        }
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
      } finally {
        Files.deleteIfExists(out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted: " + String.join(" ", full), e);
    }
  }

  /** Runs {@code cmd} and returns its output; throws with the output if it fails. */
  public static String check(String ns, String... cmd) {
    Result r = run(ns, 60, cmd);
    if (!r.ok()) {
      throw new IllegalStateException("failed (" + r.exitCode() + "): " + String.join(" ", cmd) + ": " + r.output().trim());
    }
    return r.output();
  }

  /** Starts a long-running process in a namespace; its output goes to {@code log}. */
  public static Process start(String ns, Path log, String... cmd) {
    try {
      return new ProcessBuilder(inNamespace(ns, cmd)).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Kills a process and everything it started. */
  public static void kill(Process p) {
    if (p == null) {
      return;
    }
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
    try {
      p.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static String read(InputStream in) throws IOException {
    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
  }

  private static List<String> inNamespace(String ns, String... cmd) {
    List<String> full = new ArrayList<>();
    if (ns != null) {
      full.addAll(List.of("ip", "netns", "exec", ns));
    }
    full.addAll(Arrays.asList(cmd));
    return full;
  }
}
