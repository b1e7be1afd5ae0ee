package io.semnet.tunnel.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads a UDP socket's kernel drop counter (receive-buffer overflows) from
 * {@code /proc/thread-self/net/udp[6]}, found by the socket's inode. Call it from a thread in the
 * socket's network namespace.
 */
public final class ProcNetUdp {
  private ProcNetUdp() {}

  /** The socket's drops, or -1 if it cannot be found. */
  public static long drops(int fd, int port) {
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
    for (String file : List.of("/proc/thread-self/net/udp", "/proc/thread-self/net/udp6")) {
      try {
        for (String line : Files.readAllLines(Path.of(file))) {
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
