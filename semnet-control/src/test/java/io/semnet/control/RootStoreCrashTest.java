package io.semnet.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.semnet.control.store.RootEvent;
import io.semnet.control.store.RootState;
import io.semnet.control.store.RootStore;
import io.semnet.core.service.ServiceId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILLs a separate process ({@link CrashWriter}) writing allocations and publications to a root
 * journal, at least 100 times at random moments (mostly while it deploys, sometimes while it opens
 * and compacts the journal), and restarts it each time: it must always start, never hand out a
 * subnet, address or version again that an earlier incarnation reported as granted, and never lose
 * a publication the store acknowledged.
 */
class RootStoreCrashTest {
  private static final int KILLS = 100;

  @TempDir Path dir;

  @Test
  void sigkilledWriterNeverDuplicatesNorLosesAcknowledgedState() throws Exception {
    Path journal = dir.resolve("root.journal");
    Random rnd = new Random(Long.getLong("semnet.crash.seed", System.nanoTime()));
    Set<String> granted = new HashSet<>();
    Map<ServiceId, Long> published = new HashMap<>();
    long maxVersion = 0;
    int grants = 0;
    int duringOpen = 0;
    long started = System.nanoTime();
    for (int inc = 0; inc < KILLS; inc++) {
      boolean killDuringOpen = inc % 4 == 3;
      Process p = new ProcessBuilder(javaBin(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto",
          "-cp", System.getProperty("java.class.path"), CrashWriter.class.getName(), journal.toString(), Integer.toString(inc))
          .redirectError(dir.resolve("writer.err").toFile())
          .start();
      ProcessLines lines = ProcessLines.of(p);
      String waitFor = killDuringOpen ? "OPENING;" : "READY;";
      if (!lines.await(waitFor, 20_000)) {
        p.destroyForcibly().waitFor();
        fail("incarnation " + inc + " did not start: " + lines.all() + "\n" + Files.readString(dir.resolve("writer.err")));
      }
      Thread.sleep(killDuringOpen ? rnd.nextInt(25) : 20 + rnd.nextInt(181));
      p.destroyForcibly(); // SIGKILL
      assertTrue(p.waitFor(10, TimeUnit.SECONDS));
      lines.join(10_000);
      if (killDuringOpen && !lines.all().contains("READY;")) {
        duringOpen++;
      }
      long before = maxVersion;
      for (String l : lines.all()) {
        String[] w = l.substring(0, l.length() - 1).split(" ");
        if (w[0].equals("ALLOC")) {
          grants++;
          if (!granted.add(w[1] + " " + w[2])) {
            fail("incarnation " + inc + " handed out " + w[1] + " " + w[2] + " again");
          }
        } else if (w[0].equals("PUB")) {
          long v = Long.parseLong(w[2]);
          assertTrue(v > maxVersion, "incarnation " + inc + " published version " + v + " after " + maxVersion);
          maxVersion = v;
          published.put(ServiceId.parse(w[1]), v);
        }
      }
      assertTrue(maxVersion >= before);
      checkRestart(journal, published, maxVersion, inc);
    }
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    System.out.printf("RootStoreCrashTest: %d SIGKILLs (%d while opening) in %d ms; %d grants, %d publications, last version %d%n",
        KILLS, duringOpen, ms, grants, published.size(), maxVersion);
    assertTrue(published.size() > KILLS / 2, "the writer got work done between kills: " + published.size());
  }

  /** Opens a copy of the journal (the next incarnation reads the original, torn tail and all). */
  private void checkRestart(Path journal, Map<ServiceId, Long> published, long maxVersion, int inc) throws IOException {
    if (!Files.exists(journal)) {
      assertTrue(published.isEmpty());
      return;
    }
    Path copy = dir.resolve("check.journal");
    Files.copy(journal, copy, StandardCopyOption.REPLACE_EXISTING);
    try (RootStore s = RootStore.journal(copy)) {
      RootState st = s.load();
      assertTrue(st.maxVersion() >= maxVersion, "after incarnation " + inc + ": version " + st.maxVersion() + " < " + maxVersion);
      published.forEach((sid, v) -> {
        RootEvent.ServicePut put = st.services().get(sid);
        assertNotNull(put, "after incarnation " + inc + ": published " + sid + " lost");
        assertTrue(put.record().version() >= v, sid + " went back from " + v + " to " + put.record().version());
      });
    }
  }

  private static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  @Test
  void linesWithoutTerminatorAreNotCounted() throws Exception {
    ProcessLines l = new ProcessLines(new java.io.ByteArrayInputStream("READY;\nPUB x 1;\nALLOC sip 1.2".getBytes(StandardCharsets.UTF_8)));
    l.start();
    l.join();
    assertEquals(List.of("READY;", "PUB x 1;"), l.all());
  }
}
