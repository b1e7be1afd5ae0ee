package io.semnet.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** CPU time of this JVM's threads by name, from {@code /proc/self/task} (no JMX: works inside any module). */
public final class ThreadCpu {
  private ThreadCpu() {}

  /**
   * Milliseconds of CPU (user + system, 10 ms resolution) used so far by this process's threads
   * whose kernel name starts with the first 15 characters of {@code namePrefix} (the kernel keeps
   * 15). Fails if there is no such thread.
   */
  public static long millis(String namePrefix) throws IOException {
    String comm = namePrefix.length() > 15 ? namePrefix.substring(0, 15) : namePrefix;
    long ticks = 0;
    boolean found = false;
    try (var tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path t : (Iterable<Path>) tasks::iterator) {
        try {
          if (Files.readString(t.resolve("comm")).strip().startsWith(comm)) {
            String stat = Files.readString(t.resolve("stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime: fields 14 and 15
            found = true;
          }
        } catch (IOException gone) {
          // the thread ended while listed
        }
      }
    }
    if (!found) {
      throw new AssertionError("no thread named " + namePrefix + "*");
    }
    return ticks * 10; // USER_HZ is 100 on Linux
  }
}
