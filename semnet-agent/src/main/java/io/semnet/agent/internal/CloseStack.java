package io.semnet.agent.internal;

import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a process started, closed newest first by {@link #close()} (each failure logged, the rest
 * still closed). Idempotent; thread-safe.
 */
final class CloseStack implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CloseStack.class);
  private final Deque<AutoCloseable> started = new ArrayDeque<>();

  /** Remembers {@code c} for {@link #close()}; returns it. */
  synchronized <T extends AutoCloseable> T push(T c) {
    started.push(c);
    return c;
  }

  @Override
  public synchronized void close() {
    while (!started.isEmpty()) {
      AutoCloseable c = started.pop();
      try {
        c.close();
      } catch (Exception e) {
        log.warn("closing {} failed", c.getClass().getSimpleName(), e);
      }
    }
  }
}
