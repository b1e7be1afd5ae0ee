package io.semnet.control.store;

/** {@link RootStore#inMemory()}: the fold kept in memory only. */
final class MemoryRootStore implements RootStore {
  private final RootState state = new RootState();

  @Override
  public synchronized RootState load() {
    return state.copy();
  }

  @Override
  public synchronized void append(RootEvent event) {
    state.apply(event);
  }

  @Override
  public void close() {}
}
