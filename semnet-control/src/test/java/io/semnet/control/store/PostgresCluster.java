package io.semnet.control.store;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throw-away PostgreSQL cluster for tests (Debian's {@code postgresql} 15): created in a fresh
 * directory owned by the {@code postgres} user (PostgreSQL refuses to run as root), listening on
 * 127.0.0.1 on a free port and on a Unix socket in that directory only, trust authentication for
 * local connections. {@link #close} stops it ({@code -m immediate}) and removes the directory.
 * Shared by the tests of semnet-control and, through its test-jar, semnet-mqtt.
 */
public final class PostgresCluster implements AutoCloseable {
  private static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");

  private final Path dir;
  private final int port;

  private PostgresCluster(Path dir, int port) {
    this.dir = dir;
    this.port = port;
  }

  /** Whether PostgreSQL's binaries are installed (tests are skipped otherwise). */
  public static boolean available() {
    return Files.isExecutable(BIN.resolve("initdb"));
  }

  /** Creates and starts a cluster. */
  public static PostgresCluster start() throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory(Path.of("/tmp"), "semnet-pg-");
    run(List.of("chmod", "755", dir.toString()));
    run(List.of("chown", "postgres:postgres", dir.toString()));
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    PostgresCluster c = new PostgresCluster(dir, port);
    try {
      c.asPostgres(BIN.resolve("initdb").toString(), "-D", dir.resolve("data").toString(), "-A", "trust", "-U", "postgres",
          "--no-sync");
      c.asPostgres(BIN.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-w", "-t", "30", "-l",
          dir.resolve("log").toString(), "-o", "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=on",
          "start");
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e;
    }
    return c;
  }

  public int port() {
    return port;
  }

  /** Where files readable and writable by the {@code postgres} user go (dumps). */
  public Path dir() {
    return dir;
  }

  public String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
  }

  public Properties props() {
    Properties p = new Properties();
    p.setProperty("user", "postgres");
    p.setProperty("connectTimeout", "5");
    p.setProperty("socketTimeout", "30");
    return p;
  }

  public void createDatabase(String name) throws IOException, InterruptedException {
    asPostgres(BIN.resolve("createdb").toString(), "-h", "127.0.0.1", "-p", Integer.toString(port), name);
  }

  /** {@code pg_dump} of {@code database} to {@code file} (plain SQL). */
  public void dump(String database, Path file) throws IOException, InterruptedException {
    asPostgres(BIN.resolve("pg_dump").toString(), "-h", "127.0.0.1", "-p", Integer.toString(port), "-f", file.toString(), database);
  }

  /** Restores a plain {@code pg_dump} into {@code database} with {@code psql} (stops at the first error). */
  public void restore(String database, Path file) throws IOException, InterruptedException {
    asPostgres(BIN.resolve("psql").toString(), "-h", "127.0.0.1", "-p", Integer.toString(port), "-v", "ON_ERROR_STOP=1",
        "-q", "-f", file.toString(), database);
  }

  private void asPostgres(String... cmd) throws IOException, InterruptedException {
    List<String> l = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
    l.addAll(List.of(cmd));
    run(l);
  }

  private static void run(List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IOException(String.join(" ", cmd) + " failed: " + out);
    }
  }

  @Override
  public void close() {
    try {
      if (Files.exists(dir.resolve("data/postmaster.pid"))) {
        asPostgres(BIN.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m", "immediate", "-w", "stop");
      }
    } catch (IOException | InterruptedException e) {
      // removing the directory anyway
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort
    }
  }
}
