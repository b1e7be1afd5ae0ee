package io.semnet.control.store;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The byte layout of the root journal and the rules for reading it back from raw bytes.
 *
 * <p>Version 2 (written by this code): the ASCII header {@link #HEADER}, then one record per event:
 * a 4-byte big-endian payload length {@code n} (1..{@link #MAX_RECORD}), the 4-byte CRC32C of the
 * payload, the {@code n} payload bytes (the event as UTF-8 JSON) and a {@code '\n'} terminator.
 *
 * <p>Exactly a torn tail is ignored: a final record cut short (header, payload or terminator
 * missing), a final record whose checksum or terminator is wrong and that ends exactly at the end of
 * the file, or a tail of zero bytes (a file extended but not written by a crash). Anything else that
 * does not check is corruption and fails the read: a bad record followed by more data would mean
 * an acknowledged record is lost or unreadable, which the root must not silently accept.
 *
 * <p>Version 1 (read only, migrated by the next compaction): JSON lines without a header. Bytes
 * after the last newline are a torn tail; a malformed last line is ignored as before; lines are
 * decoded as strict UTF-8 from raw bytes, so a tail torn inside a multi-byte character is just a
 * torn tail.
 */
final class JournalFormat {
  static final byte[] HEADER = "#semnet-root-journal 2\n".getBytes(StandardCharsets.US_ASCII);
  static final int MAX_RECORD = 16 << 20;
  private static final int FRAME = 8;

  private JournalFormat() {}

  /** What a read found: the complete payloads, and how many bytes at the end were a torn tail. */
  record Scan(List<byte[]> payloads, int version, long validBytes, long tornBytes) {}

  /** One framed record for {@code payload}. */
  static ByteBuffer frame(byte[] payload) {
    if (payload.length == 0 || payload.length > MAX_RECORD) {
      throw new IllegalArgumentException("journal record of " + payload.length + " bytes");
    }
    ByteBuffer b = ByteBuffer.allocate(FRAME + payload.length + 1);
    b.putInt(payload.length).putInt(crc(payload, 0, payload.length)).put(payload).put((byte) '\n');
    return b.flip();
  }

  static int crc(byte[] b, int off, int len) {
    CRC32C c = new CRC32C();
    c.update(b, off, len);
    return (int) c.getValue();
  }

  /** Reads a whole journal file's bytes (empty: no journal yet). */
  static Scan scan(byte[] file) {
    if (file.length == 0) {
      return new Scan(List.of(), 2, 0, 0);
    }
    if (startsWithHeader(file)) {
      return scanV2(file);
    }
    if (file.length < HEADER.length && Arrays.equals(file, 0, file.length, HEADER, 0, file.length)) {
      return new Scan(List.of(), 2, 0, file.length); // torn while writing the header
    }
    return scanV1(file);
  }

  private static boolean startsWithHeader(byte[] file) {
    return file.length >= HEADER.length && Arrays.equals(file, 0, HEADER.length, HEADER, 0, HEADER.length);
  }

  private static Scan scanV2(byte[] f) {
    List<byte[]> out = new ArrayList<>();
    ByteBuffer b = ByteBuffer.wrap(f);
    int p = HEADER.length;
    while (p < f.length) {
      if (allZero(f, p)) {
        return new Scan(out, 2, p, f.length - p);
      }
      if (f.length - p < FRAME) {
        return new Scan(out, 2, p, f.length - p);
      }
      int len = b.getInt(p);
      int crc = b.getInt(p + 4);
      if (len <= 0 || len > MAX_RECORD) {
        throw new IllegalStateException("record at byte " + p + " has an impossible length " + len);
      }
      long end = (long) p + FRAME + len + 1;
      if (end > f.length) {
        return new Scan(out, 2, p, f.length - p);
      }
      boolean ok = f[(int) end - 1] == '\n' && crc(f, p + FRAME, len) == crc;
      if (!ok) {
        if (end == f.length) {
          return new Scan(out, 2, p, f.length - p);
        }
        throw new IllegalStateException("record at byte " + p + " fails its checksum and is followed by "
            + (f.length - end) + " more bytes");
      }
      out.add(Arrays.copyOfRange(f, p + FRAME, p + FRAME + len));
      p = (int) end;
    }
    return new Scan(out, 2, p, 0);
  }

  private static boolean allZero(byte[] f, int from) {
    for (int i = from; i < f.length; i++) {
      if (f[i] != 0) {
        return false;
      }
    }
    return true;
  }

  /** Version 1: complete lines as strings (strict UTF-8); the caller may ignore a bad last line. */
  private static Scan scanV1(byte[] f) {
    List<byte[]> out = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < f.length; i++) {
      if (f[i] == '\n') {
        if (i > start) {
          out.add(Arrays.copyOfRange(f, start, i));
        }
        start = i + 1;
      }
    }
    return new Scan(out, 1, start, f.length - start);
  }

  /** Strict UTF-8 decoding (malformed input throws rather than being replaced). */
  static String utf8(byte[] b) throws CharacterCodingException {
    return StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(ByteBuffer.wrap(b)).toString();
  }
}
