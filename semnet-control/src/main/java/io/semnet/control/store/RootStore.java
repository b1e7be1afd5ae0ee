package io.semnet.control.store;

import java.nio.file.Path;

/**
 * Where the root keeps its authoritative state so that a restart never hands out an address,
 * subnet or version twice. {@link #append} returns only once the event is durable; the root appends
 * before it publishes a change, so nothing a node has seen can be lost by a crash.
 */
public interface RootStore extends AutoCloseable {
  /** The state as of the last appended event. */
  RootState load();

  /** Records an event durably (or throws, and the root then refuses the change). */
  void append(RootEvent event);

  @Override
  void close();

  /** A store that keeps nothing across restarts (tests, throw-away set-ups). */
  static RootStore inMemory() {
    return new MemoryRootStore();
  }

  /** The embedded durable default: an fsync'd append-only JSON-lines journal at {@code file}. */
  static RootStore journal(Path file) {
    return JournalRootStore.open(file);
  }
}
