package io.semnet.control.store;

import io.semnet.resolver.protocol.internal.Json;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link RootStore} on PostgreSQL for a highly available root: several root processes open it on
 * the same database, one leads, the others wait ({@link #awaitLeadership}).
 *
 * <p><b>Leadership</b>: a session-level advisory lock ({@code pg_try_advisory_lock}) held on a
 * dedicated connection; standbys retry every {@code 100 ms}. When the leader process dies, its
 * connection closes and PostgreSQL releases the lock at once. On taking the lock the new leader
 * bumps the <b>epoch</b> (one row, {@code semnet_root_leader}), compacts the event table to the
 * live state and reads it, all in one transaction.
 *
 * <p><b>Fencing</b>: every {@link #append} runs on a second connection in a transaction that locks
 * the epoch row, checks it still holds this store's epoch, then inserts the event. A deposed leader
 * (its lock connection lost, e.g. in a partition, while it still runs) finds a higher epoch and is
 * refused ({@link FencedException}); an append that committed before the takeover is read by the
 * new leader, which bumps the epoch under the same row lock. So nothing a deposed leader writes can
 * interleave with the new leader's writes.
 *
 * <p>Thread-safe. {@link #load} and {@link #append} need leadership.
 */
public final class PostgresRootStore implements RootStore {
  private static final Logger log = LoggerFactory.getLogger(PostgresRootStore.class);
  /** The advisory lock key: "SemNetRt" as a 64-bit number. */
  static final long LOCK_KEY = 0x53656d4e65745274L;

  private final String url;
  private final Properties props;
  private final String holder;
  private Connection lockConnection;
  private Connection writeConnection;
  private RootState state;
  private long epoch = -1;
  private boolean closed;

  /** A write refused because another root process has taken over (a higher epoch). */
  public static final class FencedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    FencedException(String message) {
      super(message);
    }
  }

  private PostgresRootStore(String url, Properties props, String holder) {
    this.url = url;
    this.props = props;
    this.holder = holder;
  }

  /**
   * A store on the database at {@code jdbcUrl} ({@code jdbc:postgresql://host:port/db}); connects
   * nothing yet. {@code holder} names this process in the leader row (for operators).
   */
  public static PostgresRootStore connect(String jdbcUrl, Properties props, String holder) {
    return new PostgresRootStore(Objects.requireNonNull(jdbcUrl, "jdbcUrl"), props == null ? new Properties() : props,
        Objects.requireNonNull(holder, "holder"));
  }

  /**
   * Waits until this process leads (or {@code timeout} passes): takes the advisory lock, creates
   * the tables if missing, bumps the epoch and reads the state.
   *
   * @return the new epoch (at least 1), or -1 on timeout
   */
  public long awaitLeadership(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      synchronized (this) {
        if (closed) {
          throw new IllegalStateException("store closed");
        }
        if (epoch > 0) {
          return epoch;
        }
        try {
          if (tryLead()) {
            return epoch;
          }
        } catch (SQLException | IOException e) {
          log.warn("root store {}: cannot reach the database ({}); retrying", url, e.toString());
          closeQuietly(writeConnection);
          closeQuietly(lockConnection);
          writeConnection = null;
          lockConnection = null;
        }
      }
      if (System.nanoTime() > deadline) {
        return -1;
      }
      Thread.sleep(100);
    }
  }

  private boolean tryLead() throws SQLException, IOException {
    if (lockConnection == null || lockConnection.isClosed()) {
      lockConnection = DriverManager.getConnection(url, props);
      lockConnection.setAutoCommit(true);
    }
    try (PreparedStatement ps = lockConnection.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
      ps.setLong(1, LOCK_KEY);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        if (!rs.getBoolean(1)) {
          return false;
        }
      }
    }
    writeConnection = DriverManager.getConnection(url, props);
    writeConnection.setAutoCommit(false);
    writeConnection.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
    try (Statement s = writeConnection.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS semnet_root_leader (id int PRIMARY KEY CHECK (id = 1),"
          + " epoch bigint NOT NULL, holder text, since timestamptz NOT NULL)");
      s.execute("INSERT INTO semnet_root_leader VALUES (1, 0, NULL, now()) ON CONFLICT (id) DO NOTHING");
      s.execute("CREATE TABLE IF NOT EXISTS semnet_root_events (seq bigserial PRIMARY KEY, epoch bigint NOT NULL,"
          + " event text NOT NULL, at timestamptz NOT NULL DEFAULT now())");
      writeConnection.commit();
    }
    long e;
    try (PreparedStatement ps = writeConnection.prepareStatement(
        "UPDATE semnet_root_leader SET epoch = epoch + 1, holder = ?, since = now() WHERE id = 1 RETURNING epoch")) {
      ps.setString(1, holder);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        e = rs.getLong(1);
      }
    }
    RootState folded = new RootState();
    int rows = 0;
    try (Statement s = writeConnection.createStatement();
         ResultSet rs = s.executeQuery("SELECT event FROM semnet_root_events ORDER BY seq")) {
      while (rs.next()) {
        folded.apply(JournalCodec.decode(Json.MAPPER.readTree(rs.getString(1))));
        rows++;
      }
    }
    // Compaction: the table keeps the live state plus the changes since the last takeover.
    try (Statement s = writeConnection.createStatement();
         PreparedStatement ins = writeConnection.prepareStatement("INSERT INTO semnet_root_events (epoch, event) VALUES (?, ?)")) {
      s.execute("DELETE FROM semnet_root_events");
      for (RootEvent ev : folded.toEvents(Instant.now())) {
        ins.setLong(1, e);
        ins.setString(2, encode(ev));
        ins.addBatch();
      }
      ins.executeBatch();
    }
    writeConnection.commit();
    this.state = folded;
    this.epoch = e;
    log.info("root store {}: {} leads with epoch {} ({} events read, version {})", url, holder, e, rows, folded.maxVersion());
    return true;
  }

  private static String encode(RootEvent e) throws IOException {
    return Json.MAPPER.writeValueAsString(JournalCodec.encode(e));
  }

  /** The epoch this process leads with, or -1 before it leads. */
  public synchronized long epoch() {
    return epoch;
  }

  /**
   * True while this process leads as far as it can tell: its lock connection is alive and the epoch
   * row still holds its epoch (a check against the database; call it every second or so and stop
   * serving when it turns false).
   */
  public synchronized boolean isLeader() {
    if (epoch < 0 || closed) {
      return false;
    }
    try {
      if (!lockConnection.isValid(2)) {
        return false;
      }
      try (Statement s = lockConnection.createStatement();
           ResultSet rs = s.executeQuery("SELECT epoch FROM semnet_root_leader WHERE id = 1")) {
        return rs.next() && rs.getLong(1) == epoch;
      }
    } catch (SQLException e) {
      return false;
    }
  }

  @Override
  public synchronized RootState load() {
    if (state == null) {
      throw new IllegalStateException("not the leader: call awaitLeadership first");
    }
    return state.copy();
  }

  @Override
  public synchronized void append(RootEvent event) {
    if (closed) {
      throw new IllegalStateException("store closed");
    }
    if (state == null) {
      throw new IllegalStateException("not the leader: call awaitLeadership first");
    }
    String json;
    try {
      json = encode(event);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot encode " + event + ": " + e.getMessage(), e);
    }
    try {
      try (PreparedStatement ps = writeConnection.prepareStatement("SELECT epoch FROM semnet_root_leader WHERE id = 1 FOR UPDATE")) {
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          long now = rs.getLong(1);
          if (now != epoch) {
            writeConnection.rollback();
            throw new FencedException("deposed: the root store's epoch is " + now + ", this process led with " + epoch);
          }
        }
      }
      try (PreparedStatement ins = writeConnection.prepareStatement("INSERT INTO semnet_root_events (epoch, event) VALUES (?, ?)")) {
        ins.setLong(1, epoch);
        ins.setString(2, json);
        ins.executeUpdate();
      }
      writeConnection.commit();
    } catch (SQLException e) {
      try {
        writeConnection.rollback();
      } catch (SQLException r) {
        e.addSuppressed(r);
      }
      throw new IllegalStateException("root store " + url + ": write failed: " + e.getMessage(), e);
    }
    state.apply(event);
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      closeQuietly(writeConnection);
      closeQuietly(lockConnection);
    }
  }

  private static void closeQuietly(Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException e) {
        // closing anyway
      }
    }
  }
}
