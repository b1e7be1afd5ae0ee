package io.semnet.proxy.tun;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * Runs code with the calling thread inside a named network namespace ({@code ip netns add NAME},
 * i.e. {@code /var/run/netns/NAME}) and puts the thread back where it was afterwards, using
 * {@code setns(2)} on the thread alone. Sockets and TUN devices opened inside stay in that
 * namespace for their whole life, wherever they are used from later; threads started inside
 * inherit it. Several nodes can so share one JVM, each with its devices and sockets in its own
 * namespace. Needs CAP_SYS_ADMIN.
 *
 * <pre>{@code
 * TunDevice tun = NetworkNamespace.run("node1", () -> TunDevice.builder().name("sn0").build());
 * }</pre>
 */
public final class NetworkNamespace {
  private static final Path NETNS_DIR = Path.of("/var/run/netns");

  private NetworkNamespace() {}

  /** Code to run inside a namespace. */
  @FunctionalInterface
  public interface Task {
    void run() throws Exception;
  }

  /** True if {@code /var/run/netns/NAME} exists. */
  public static boolean exists(String name) {
    return Files.exists(path(name));
  }

  /**
   * Calls {@code task} on this thread inside namespace {@code name}; returns its result.
   *
   * @throws IOException if the namespace does not exist or cannot be entered
   * @throws IllegalStateException if the thread cannot be returned to its namespace (it must then
   *     not be used further; this does not happen short of the original namespace vanishing)
   */
  public static <T> T run(String name, Callable<T> task) throws Exception {
    Path p = path(name);
    int target = LibC.open(p.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC);
    if (target < 0) {
      throw new IOException("cannot open network namespace " + p + ": " + LibC.error());
    }
    int original = LibC.open("/proc/thread-self/ns/net", LibC.O_RDONLY | LibC.O_CLOEXEC);
    if (original < 0) {
      LibC.close(target);
      throw new IOException("cannot open this thread's network namespace: " + LibC.error());
    }
    try {
      if (LibC.setns(target, LibC.CLONE_NEWNET) != 0) {
        throw new IOException("cannot enter network namespace " + name + ": " + LibC.error());
      }
      try {
        return task.call();
      } finally {
        if (LibC.setns(original, LibC.CLONE_NEWNET) != 0) {
          throw new IllegalStateException("cannot return thread " + Thread.currentThread().getName()
              + " from network namespace " + name + ": " + LibC.error());
        }
      }
    } finally {
      LibC.close(original);
      LibC.close(target);
    }
  }

  /** Runs {@code task} on this thread inside namespace {@code name}. */
  public static void run(String name, Task task) throws Exception {
    run(name, () -> {
      task.run();
      return null;
    });
  }

  private static Path path(String name) {
    if (name == null || name.isEmpty() || name.contains("/") || name.equals(".") || name.equals("..")) {
      throw new IllegalArgumentException("bad network namespace name '" + name + "'");
    }
    return NETNS_DIR.resolve(name);
  }
}
