package io.semnet.tunnel.internal;

/**
 * Per-run epochs: seconds since 2020-01-01 UTC, strictly increasing across runs of the tunnel.
 * Each run waits until its epoch's second is over before it may send, so a later run (in this
 * process or another, with a wall clock that does not step back) always reads a larger second.
 * The epoch is the high part of every nonce, so counters may restart at zero each run.
 */
public final class Epochs {
  private static final long BASE_SECONDS = 1_577_836_800L;
  /** Last epoch per identity in this process (epochs need only be unique per static key). */
  private static final java.util.Map<String, Long> LAST = new java.util.HashMap<>();

  private Epochs() {}

  /** The next epoch for {@code identity} (e.g. the node's public key); may sleep up to about a second. */
  public static int next(String identity) throws InterruptedException {
    long now = System.currentTimeMillis();
    long e;
    synchronized (LAST) {
      e = Math.max(now / 1000 - BASE_SECONDS, LAST.getOrDefault(identity, 0L) + 1);
      LAST.put(identity, e);
    }
    long until = (BASE_SECONDS + e + 1) * 1000;
    while ((now = System.currentTimeMillis()) < until) {
      Thread.sleep(until - now);
    }
    return (int) e;
  }
}
