package io.semnet.samples.cluster;

import io.semnet.core.address.Addresses;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Traffic across a migration, as the instance's users see it: an echo server in the migrating
 * instance (UDP and TCP, python) and a client in another instance running a UDP stream with
 * sequence numbers at a fixed interval and one TCP connection exchanging request/response lines.
 * The client's result tells what was lost, duplicated and reordered, when the first echo came
 * back after a given moment, and whether the TCP connection survived.
 */
public final class MigrationTraffic {
  private MigrationTraffic() {}

  /** Starts the echo server in {@code server} on {@code udpPort} and {@code tcpPort} and waits until it listens. */
  public static void serve(LocalCluster.Instance server, int udpPort, int tcpPort) {
    Path script = copy(server, "migration_server.py");
    server.start("migration-server.log", "/usr/bin/python3", "-u", script.toString(),
        Integer.toString(udpPort), Integer.toString(tcpPort));
    LocalCluster.waitFor(() -> server.run(5, "ss", "-Hltn", "sport = :" + tcpPort).output().contains(":" + tcpPort),
        "migration echo server of " + server.label());
  }

  /**
   * Datagrams the echo server in {@code server} has seen out of order so far (each arrived after a
   * later one of the same sender), over all its senders and runs: compare before and after.
   */
  public static long reorderedAtServer(LocalCluster.Instance server) {
    Path log = server.dir().resolve("migration-server.log");
    try {
      return Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8).stream().filter(l -> l.startsWith("O ")).count() : 0;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A running client; {@link #await} collects its result. */
  public static final class Client {
    private final Process process;
    private final Path log;
    private final long timeoutMs;

    Client(Process process, Path log, long timeoutMs) {
      this.process = process;
      this.log = log;
      this.timeoutMs = timeoutMs;
    }

    /**
     * Waits until the first UDP echo and the first TCP response came back (the route is resolved,
     * the tunnel links are up, the stream flows and the connection is established), at most 60 s:
     * a fresh cluster's first handshakes took over 20 s at load 40.
     */
    public Client awaitFlowing() {
      LocalCluster.waitFor(() -> {
        try {
          String out = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
          return out.contains("\nE ") && out.contains("\nC ");
        } catch (IOException e) {
          return false;
        }
      }, "the migration client's first echo", Duration.ofSeconds(60));
      return this;
    }

    /**
     * Ends the stream at {@code tNanos} ({@link System#nanoTime()}; at once if that passed): the
     * client stops sending, waits a second for stragglers and reports. Lets a caller run the stream
     * until a move is over however long the move took on a loaded machine.
     */
    public Client stopAt(long tNanos) throws InterruptedException {
      long wait = tNanos - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait);
      }
      process.descendants().forEach(ProcessHandle::destroy);
      process.destroy();
      return this;
    }

    /** Waits for the client to finish and parses what it saw. */
    public Result await() throws InterruptedException {
      if (!process.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("migration client did not finish; see " + log);
      }
      try {
        return Result.parse(Files.readAllLines(log, StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /**
   * Starts the client in {@code client} against {@code target} (an InstanceIP or ServiceIP) for
   * {@code duration}, one UDP datagram every {@code interval}.
   */
  public static Client start(LocalCluster.Instance client, InetAddress target, int udpPort, int tcpPort,
      Duration duration, Duration interval) {
    Path script = copy(client, "migration_client.py");
    String logName = "migration-client-" + System.nanoTime() + ".log";
    Process p = client.start(logName, "/usr/bin/python3", "-u", script.toString(), Addresses.format(target),
        Integer.toString(udpPort), Integer.toString(tcpPort), Double.toString(duration.toMillis() / 1000.0),
        Double.toString(interval.toNanos() / 1e9));
    return new Client(p, client.dir().resolve(logName), duration.toMillis() + 15_000);
  }

  /**
   * What the client saw. Arrays are indexed by sequence number; {@code recvNanos[i]} is 0 for a
   * datagram whose echo never came back.
   */
  public record Result(long[] sentNanos, long[] recvNanos, long duplicated, long reordered,
      long tcpResponses, long tcpLastNanos, long tcpResets, long tcpMaxGapNanos, String tcpError) {

    static Result parse(List<String> lines) {
      int sent = -1;
      for (String l : lines) {
        if (l.startsWith("S ")) {
          sent = Integer.parseInt(l.substring(2).trim());
        }
      }
      if (sent < 0) {
        throw new IllegalStateException("migration client output incomplete: " + lines);
      }
      long[] s = new long[sent];
      long[] r = new long[sent];
      long dup = 0;
      long reo = 0;
      long ok = 0;
      long last = 0;
      long resets = 0;
      long gap = 0;
      String err = "no TCP result";
      for (String l : lines) {
        String[] f = l.split(" ", 6);
        switch (f[0]) {
          case "U" -> {
            int seq = Integer.parseInt(f[1]);
            s[seq] = Long.parseLong(f[2]);
            r[seq] = Long.parseLong(f[3]);
          }
          case "L" -> s[Integer.parseInt(f[1])] = Long.parseLong(f[2]);
          case "D" -> dup = Long.parseLong(f[1]);
          case "R" -> reo = Long.parseLong(f[1]);
          case "T" -> {
            ok = Long.parseLong(f[1]);
            last = Long.parseLong(f[2]);
            resets = Long.parseLong(f[3]);
            gap = Long.parseLong(f[4]);
            err = f.length > 5 ? f[5] : "";
          }
          default -> { }
        }
      }
      return new Result(s, r, dup, reo, ok, last, resets, gap, err);
    }

    public int sent() {
      return sentNanos.length;
    }

    public long lost() {
      long n = 0;
      for (long t : recvNanos) {
        if (t == 0) {
          n++;
        }
      }
      return n;
    }

    /** Datagrams sent in [from, to) and how many of them never came back: {sent, lost}. */
    public long[] window(long fromNanos, long toNanos) {
      long n = 0;
      long lost = 0;
      for (int i = 0; i < sentNanos.length; i++) {
        if (sentNanos[i] >= fromNanos && sentNanos[i] < toNanos) {
          n++;
          if (recvNanos[i] == 0) {
            lost++;
          }
        }
      }
      return new long[] {n, lost};
    }

    /** The first echo that arrived at or after {@code t}, or -1. */
    public long firstEchoAfter(long t) {
      long first = Long.MAX_VALUE;
      for (long r : recvNanos) {
        if (r >= t && r < first) {
          first = r;
        }
      }
      return first == Long.MAX_VALUE ? -1 : first;
    }

    /** The TCP connection saw no error or reset and answered after {@code t}. */
    public boolean tcpSurvived(long t) {
      return "ok".equals(tcpError) && tcpResets == 0 && tcpLastNanos > t;
    }
  }

  private static Path copy(LocalCluster.Instance i, String resource) {
    Path p = i.dir().resolve(resource);
    try (InputStream in = MigrationTraffic.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + resource);
      }
      Files.write(p, in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return p;
  }
}
