package io.semnet.control.store;

import io.semnet.resolver.protocol.internal.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link RootStore#journal}: an append-only journal of framed, checksummed records
 * ({@link JournalFormat}), each written and fsync'd before {@link #append} returns.
 *
 * <p>On open the file is read as raw bytes and replayed; exactly a torn tail is ignored, anything
 * else that does not check fails the open rather than risk handing out an address twice. The folded
 * state is then compacted: written to a temporary file, fsync'd, atomically renamed over the
 * journal and the directory fsync'd, so the journal holds the live state plus the changes since
 * the last start, and a journal of the older JSON-lines format (version 1) is migrated.
 *
 * <p>Appends write at the end the store tracks (not {@code O_APPEND}). If a write or its fsync fails,
 * the file is truncated back to the end of the last acknowledged record and fsync'd, and the append
 * throws (the root refuses the change); if even that fails, the store stops: every later append
 * throws, so a failed record can never be followed by good ones and leave a corrupt middle.
 */
final class JournalRootStore implements RootStore {
  private static final Logger log = LoggerFactory.getLogger(JournalRootStore.class);

  private final Path file;
  private final RootState state;
  private final FileChannel channel;
  private long end;
  private Throwable stopped;
  private boolean closed;

  private JournalRootStore(Path file, RootState state, FileChannel channel, long end) {
    this.file = file;
    this.state = state;
    this.channel = channel;
    this.end = end;
  }

  static JournalRootStore open(Path file) {
    return open(file, UnaryOperator.identity());
  }

  /** As {@link #open(Path)}, with the append channel wrapped (fault injection in tests). */
  static JournalRootStore open(Path file, UnaryOperator<FileChannel> wrap) {
    try {
      RootState state = replay(file);
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        writeFully(out, ByteBuffer.wrap(JournalFormat.HEADER), 0);
        long pos = JournalFormat.HEADER.length;
        for (RootEvent e : state.toEvents(Instant.now())) {
          pos += writeFully(out, JournalFormat.frame(payload(e)), pos);
        }
        out.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      fsyncDirectory(file.toAbsolutePath().getParent());
      FileChannel ch = wrap.apply(FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE));
      return new JournalRootStore(file, state, ch, ch.size());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open root journal " + file, e);
    }
  }

  private static RootState replay(Path file) throws IOException {
    RootState state = new RootState();
    if (!Files.exists(file)) {
      return state;
    }
    JournalFormat.Scan scan;
    try {
      scan = JournalFormat.scan(Files.readAllBytes(file));
    } catch (IllegalStateException e) {
      throw new IllegalStateException("journal " + file + " is corrupt: " + e.getMessage(), e);
    }
    List<byte[]> records = scan.payloads();
    for (int i = 0; i < records.size(); i++) {
      try {
        state.apply(JournalCodec.decode(Json.MAPPER.readTree(JournalFormat.utf8(records.get(i)))));
      } catch (IOException | RuntimeException e) {
        if (scan.version() == 1 && i == records.size() - 1) {
          log.warn("journal {}: ignoring malformed last line ({})", file, e.getMessage());
        } else {
          throw new IllegalStateException("journal " + file + " is corrupt at record " + (i + 1) + ": " + e.getMessage(), e);
        }
      }
    }
    if (scan.tornBytes() > 0) {
      log.warn("journal {}: ignoring a torn tail of {} bytes after byte {}", file, scan.tornBytes(), scan.validBytes());
    }
    if (scan.version() == 1) {
      log.info("journal {}: migrating from the JSON-lines format (version 1)", file);
    }
    return state;
  }

  private static byte[] payload(RootEvent e) throws IOException {
    return Json.MAPPER.writeValueAsString(JournalCodec.encode(e)).getBytes(StandardCharsets.UTF_8);
  }

  private static int writeFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    int n = 0;
    while (b.hasRemaining()) {
      n += ch.write(b, pos + n);
    }
    return n;
  }

  private static void fsyncDirectory(Path dir) {
    if (dir == null) {
      return;
    }
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      // Some file systems cannot sync a directory; the rename is still atomic.
    }
  }

  @Override
  public synchronized RootState load() {
    return state.copy();
  }

  @Override
  public synchronized void append(RootEvent event) {
    if (closed) {
      throw new IllegalStateException("journal " + file + " is closed");
    }
    if (stopped != null) {
      throw new IllegalStateException("journal " + file + " stopped after a failed write: " + stopped.getMessage(), stopped);
    }
    ByteBuffer record;
    try {
      record = JournalFormat.frame(payload(event));
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot encode " + event + ": " + e.getMessage(), e);
    }
    try {
      int n = writeFully(channel, record, end);
      channel.force(false);
      end += n;
    } catch (IOException | RuntimeException e) {
      truncateBack(e);
      throw new UncheckedIOException("cannot write root journal " + file,
          e instanceof IOException ? (IOException) e : new IOException(e));
    }
    state.apply(event);
  }

  /** After a failed append: cut the file back to the last acknowledged record, or stop the store. */
  private void truncateBack(Exception cause) {
    try {
      channel.truncate(end);
      channel.force(false);
      log.warn("journal {}: a write failed ({}); truncated back to byte {}", file, cause.toString(), end);
    } catch (IOException | RuntimeException e) {
      cause.addSuppressed(e);
      stopped = cause;
      log.error("journal {}: a write failed and the file could not be truncated back; the store stops", file, cause);
    }
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      try {
        channel.close();
      } catch (IOException e) {
        log.warn("closing journal {}", file, e);
      }
    }
  }
}
