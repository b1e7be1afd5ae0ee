package io.semnet.tunnel.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads a UDP socket's kernel drop counter (receive-buffer overflows) from {@code net/udp[6]} of
 * a task in the socket's network namespace ({@code /proc/<pid>/task/<tid>}, see {@link #taskDir}),
 * found by the socket's inode. Any thread may call it.
 */
public final class ProcNetUdp {
  private ProcNetUdp() {}

  /** The /proc directory of the calling thread (call it on a thread in the socket's namespace), or null. */
  public static Path taskDir() {
    try {
      return Path.of("/proc/thread-self").toRealPath();
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** The socket's drops, or -1 if it cannot be found. */
  public static long drops(Path taskDir, int fd) {
    if (taskDir == null) {
      return -1;
    }
    String inode;
    try {
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
      if (!target.startsWith("socket:[")) {
        return -1;
      }
      inode = target.substring(8, target.length() - 1);
    } catch (IOException | UnsupportedOperationException e) {
      return -1;
    }
    for (String file : List.of("net/udp", "net/udp6")) {
      try {
        for (String line : Files.readAllLines(taskDir.resolve(file))) {
          String[] f = line.trim().split("\\s+");
          if (f.length >= 13 && f[9].equals(inode)) {
            return Long.parseLong(f[12]);
          }
        }
      } catch (IOException | NumberFormatException e) {
        // try the other family
      }
    }
    return -1;
  }
}
