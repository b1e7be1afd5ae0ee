package io.semnet.mdns.testing;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * Runs code on a fresh thread that has entered a named network namespace, as the node agent does
 * before starting the responder: sockets created there belong to that namespace.
 */
public final class Netns {
  private static final int O_RDONLY = 0;
  private static final int CLONE_NEWNET = 0x40000000;

  interface LibC extends Library {
    LibC INSTANCE = Native.load("c", LibC.class);

    int open(String path, int flags);

    int setns(int fd, int nstype);

    int close(int fd);
  }

  private Netns() {}

  public static <T> T call(String namespace, Callable<T> body) throws Exception {
    FutureTask<T> task = new FutureTask<>(() -> {
      int fd = LibC.INSTANCE.open("/var/run/netns/" + namespace, O_RDONLY);
      if (fd < 0) {
        throw new IllegalStateException("cannot open namespace " + namespace);
      }
      try {
        if (LibC.INSTANCE.setns(fd, CLONE_NEWNET) != 0) {
          throw new IllegalStateException("setns into " + namespace + " failed: errno " + Native.getLastError());
        }
      } finally {
        LibC.INSTANCE.close(fd);
      }
      return body.call();
    });
    Thread t = new Thread(task, "in-netns-" + namespace);
    t.start();
    try {
      return task.get();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception ? (Exception) e.getCause() : e;
    }
  }
}
