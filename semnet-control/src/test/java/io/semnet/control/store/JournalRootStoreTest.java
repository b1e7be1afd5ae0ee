package io.semnet.control.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.IpPrefix;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal read from raw bytes: torn tails ignored, failed appends cut back, corruption refused. */
class JournalRootStoreTest {
  @TempDir Path dir;

  private static RootEvent.PoolPut pool(int i) {
    return new RootEvent.PoolPut("clüster-" + i, IpPrefix.parse("10." + i + ".0.0/16"));
  }

  private static String legacyLine(int i) {
    return "{\"v\":1,\"type\":\"pool\",\"cluster\":\"clüster-" + i + "\",\"pool\":\"10." + i + ".0.0/16\"}\n";
  }

  private static RootStore openFaulty(Path f, AtomicReference<FaultyChannel> ch) {
    return JournalRootStore.open(f, c -> {
      ch.set(new FaultyChannel(c));
      return ch.get();
    });
  }

  /** A framed journal holding one pool event per id. */
  private Path journalWith(int... ids) {
    Path f = dir.resolve("root.journal");
    try (RootStore s = RootStore.journal(f)) {
      for (int i : ids) {
        s.append(pool(i));
      }
    }
    return f;
  }

  private static Set<String> clusters(RootStore s) {
    return s.load().pools().keySet();
  }

  @Test
  void legacyJournalTornInsideAMultiByteCharacterStarts() throws IOException {
    Path f = dir.resolve("root.journal");
    byte[] good = (legacyLine(1) + legacyLine(2)).getBytes(StandardCharsets.UTF_8);
    byte[] last = legacyLine(3).getBytes(StandardCharsets.UTF_8);
    int cut = legacyLine(3).indexOf('ü') + 1; // 'ü' is two bytes in UTF-8: keep only its first
    byte[] file = Arrays.copyOf(good, good.length + cut);
    System.arraycopy(last, 0, file, good.length, cut);
    Files.write(f, file);

    try (RootStore s = RootStore.journal(f)) {
      assertEquals(Set.of("clüster-1", "clüster-2"), clusters(s));
      s.append(pool(4));
    }
    try (RootStore s = RootStore.journal(f)) {
      assertEquals(Set.of("clüster-1", "clüster-2", "clüster-4"), clusters(s), "the migrated journal reopens with what came after");
    }
  }

  @Test
  void legacyJournalIsMigratedToTheFramedFormat() throws IOException {
    Path f = dir.resolve("root.journal");
    Files.writeString(f, legacyLine(1) + legacyLine(2), StandardCharsets.UTF_8);
    try (RootStore s = RootStore.journal(f)) {
      assertEquals(Set.of("clüster-1", "clüster-2"), clusters(s));
    }
    byte[] now = Files.readAllBytes(f);
    assertArrayEquals(JournalFormat.HEADER, Arrays.copyOf(now, JournalFormat.HEADER.length));
  }

  @Test
  void legacyJournalCorruptInTheMiddleStillFails() throws IOException {
    Path f = dir.resolve("root.journal");
    Files.writeString(f, legacyLine(1) + "{\"v\":1,\"type\":\"po\n" + legacyLine(2), StandardCharsets.UTF_8);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> RootStore.journal(f));
    assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
  }

  @Test
  void framedRecordTornAtEveryByteIsIgnored() throws IOException {
    Path f = journalWith(1, 2);
    byte[] base = Files.readAllBytes(f);
    ByteBuffer rec = JournalFormat.frame(JournalCodec.encode(pool(3)).toString().getBytes(StandardCharsets.UTF_8));
    byte[] r = new byte[rec.remaining()];
    rec.get(r);
    for (int cut = 1; cut < r.length; cut++) { // every prefix, including inside the 'ü', and all but the terminator
      byte[] torn = Arrays.copyOf(base, base.length + cut);
      System.arraycopy(r, 0, torn, base.length, cut);
      Files.write(f, torn);
      try (RootStore s = RootStore.journal(f)) {
        assertEquals(Set.of("clüster-1", "clüster-2"), clusters(s), "torn after " + cut + " bytes");
      }
    }
    byte[] whole = Arrays.copyOf(base, base.length + r.length);
    System.arraycopy(r, 0, whole, base.length, r.length);
    Files.write(f, whole);
    try (RootStore s = RootStore.journal(f)) {
      assertEquals(Set.of("clüster-1", "clüster-2", "clüster-3"), clusters(s), "the complete record counts");
    }
  }

  @Test
  void lastRecordWithABadChecksumIsATornTailButInTheMiddleItIsCorruption() throws IOException {
    Path f = journalWith(1, 2);
    byte[] b = Files.readAllBytes(f);
    b[b.length - 5] ^= 0x20; // inside the last record's payload
    Files.write(f, b);
    try (RootStore s = RootStore.journal(f)) {
      assertEquals(Set.of("clüster-1"), clusters(s));
      s.append(pool(3));
      s.append(pool(4));
    }
    byte[] c = Files.readAllBytes(f);
    int second = JournalFormat.HEADER.length + 8 + ByteBuffer.wrap(c).getInt(JournalFormat.HEADER.length) + 1;
    c[second + 12] ^= 0x20; // inside the second of three records
    Files.write(f, c);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> RootStore.journal(f));
    assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
  }

  @Test
  void zeroFilledTailIsIgnored() throws IOException {
    Path f = journalWith(1);
    Files.write(f, new byte[4096], StandardOpenOption.APPEND);
    try (RootStore s = RootStore.journal(f)) {
      assertEquals(Set.of("clüster-1"), clusters(s));
    }
  }

  @Test
  void failedPartialAppendIsCutBackAndLaterAppendsSurvive() throws IOException {
    Path f = dir.resolve("root.journal");
    AtomicReference<FaultyChannel> ch = new AtomicReference<>();
    try (RootStore s = openFaulty(f, ch)) {
      s.append(pool(1));
      long before = Files.size(f);
      ch.get().failNextWriteAfter = 21; // the header and part of the payload reach the file
      assertThrows(UncheckedIOException.class, () -> s.append(pool(2)));
      assertEquals(before, Files.size(f), "the partial record was cut back");
      assertEquals(Set.of("clüster-1"), clusters(s), "the refused event is not in the state");
      s.append(pool(3));
      s.append(pool(4));
    }
    try (RootStore s = RootStore.journal(f)) {
      assertEquals(Set.of("clüster-1", "clüster-3", "clüster-4"), clusters(s),
          "the root starts and keeps every acknowledged event");
    }
  }

  @Test
  void failedAppendThatCannotBeCutBackStopsTheStore() throws IOException {
    Path f = dir.resolve("root.journal");
    AtomicReference<FaultyChannel> ch = new AtomicReference<>();
    try (RootStore s = openFaulty(f, ch)) {
      s.append(pool(1));
      ch.get().failNextWriteAfter = 30;
      ch.get().failTruncate = true;
      assertThrows(UncheckedIOException.class, () -> s.append(pool(2)));
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.append(pool(3)));
      assertTrue(e.getMessage().contains("stopped"), e.getMessage());
    }
    try (RootStore s = RootStore.journal(f)) {
      assertEquals(Set.of("clüster-1"), clusters(s), "the partial record is the torn tail; the root starts");
    }
  }

  @Test
  void emptyAndHeaderOnlyFilesStart() throws IOException {
    for (byte[] content : List.of(new byte[0], Arrays.copyOf(JournalFormat.HEADER, 5), JournalFormat.HEADER)) {
      Path f = dir.resolve("j" + content.length);
      Files.write(f, content);
      try (RootStore s = RootStore.journal(f)) {
        assertTrue(clusters(s).isEmpty());
      }
    }
  }
}
