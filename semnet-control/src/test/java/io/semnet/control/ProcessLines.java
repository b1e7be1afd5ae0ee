package io.semnet.control;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Collects the complete ({@code ;}-terminated) lines a child process writes: a process may be
 * SIGKILLed in the middle of a line, and only lines it finished count. Used by the tests that kill
 * root processes ({@link RootStoreCrashTest}, semnet-mqtt's {@code RootFailoverTest}).
 */
public final class ProcessLines extends Thread {
  private final InputStream in;
  private final List<String> lines = new ArrayList<>();

  ProcessLines(InputStream in) {
    this.in = in;
    setDaemon(true);
  }

  /** Starts collecting the standard output of {@code p}. */
  public static ProcessLines of(Process p) {
    ProcessLines l = new ProcessLines(p.getInputStream());
    l.start();
    return l;
  }

  @Override
  public void run() {
    ByteArrayOutputStream cur = new ByteArrayOutputStream();
    try {
      int b;
      while ((b = in.read()) >= 0) {
        if (b == '\n') {
          String l = cur.toString(StandardCharsets.UTF_8);
          cur.reset();
          if (l.endsWith(";")) {
            add(l);
          }
        } else {
          cur.write(b);
        }
      }
    } catch (IOException e) {
      // the process died
    }
  }

  private synchronized void add(String l) {
    lines.add(l);
    notifyAll();
  }

  /** The complete lines so far. */
  public synchronized List<String> all() {
    return new ArrayList<>(lines);
  }

  /** Waits up to {@code ms} for exactly {@code line}. */
  public boolean await(String line, long ms) throws InterruptedException {
    return awaitMatch(line::equals, ms) != null;
  }

  /** Waits up to {@code ms} for a line matching {@code p}; returns it, or null. */
  public synchronized String awaitMatch(Predicate<String> p, long ms) throws InterruptedException {
    long end = System.currentTimeMillis() + ms;
    while (true) {
      for (String l : lines) {
        if (p.test(l)) {
          return l;
        }
      }
      long left = end - System.currentTimeMillis();
      if (left <= 0) {
        return null;
      }
      wait(left);
    }
  }
}
