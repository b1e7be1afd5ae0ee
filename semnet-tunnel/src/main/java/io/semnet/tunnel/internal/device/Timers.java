package io.semnet.tunnel.internal.device;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.tunnel.internal.conn.SendPath;
import io.semnet.tunnel.internal.handshake.Handshake;
import io.semnet.tunnel.internal.link.IndexTable;
import io.semnet.tunnel.internal.link.Link;
import io.semnet.tunnel.internal.link.LinkTable;
import io.semnet.tunnel.internal.link.Session;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The tunnel's periodic sweep on the event loop: closes idle links, resends unanswered first
 * contacts, sends keepalive probes (every {@code keepaliveInterval}; at once when data sent to the
 * peer has gone unanswered for 1 s; again whenever an echo is overdue by max(1 s, 4 RTT)), marks
 * peers down after {@code probesBeforeDown} misses and starts a new handshake, rekeys after
 * {@code rekeyAfter}, retires the previous session after {@code keyGrace}, forgets sessions past
 * {@code rejectAfter} (a new handshake starts when there is something to send), and removes from
 * the index table whatever no link holds any more. An exception in one sweep is logged and the
 * timer keeps running.
 */
public final class Timers {
  private static final long FAST_PROBE_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** The timer settings, in nanoseconds. */
  public record Settings(long idleNanos, long keepaliveNanos, long handshakeRetryNanos, long rekeyNanos, long keyGraceNanos,
      int probesBeforeDown, long rejectAfterNanos) {
    /** Checks the builder's values: every timer positive, rekeying before the reject-after time. */
    public Settings {
      if (idleNanos <= 0 || keepaliveNanos <= 0 || handshakeRetryNanos <= 0 || rekeyNanos <= 0 || keyGraceNanos <= 0 || rejectAfterNanos <= 0) {
        throw new IllegalArgumentException("durations must be positive");
      }
      if (rekeyNanos >= rejectAfterNanos) {
        throw new IllegalArgumentException("rekeyAfter must be shorter than the reject-after time (" + java.time.Duration.ofNanos(rejectAfterNanos) + ")");
      }
    }

    /** The sweep period: a quarter of the shortest timer, at least 10 ms. */
    public long tickNanos() {
      return Math.max(TimeUnit.MILLISECONDS.toNanos(10),
          Math.min(Math.min(keepaliveNanos, handshakeRetryNanos), Math.min(idleNanos, keyGraceNanos)) / 4);
    }
  }

  private final String name;
  private final Settings t;
  private final LinkTable links;
  private final IndexTable indexes;
  private final Handshake handshake;
  private final Consumer<Link> startHandshake;
  private final Transmitter tx;
  private final SendPath<Link> out;
  private final LocalNodeView view;
  private final BooleanSupplier running;
  private final io.semnet.tunnel.internal.conn.LoopErrors errors;
  private ScheduledFuture<?> ticker;

  /**
   * @param startHandshake starts a new handshake on a link (on the event loop)
   * @param view told when peers go down; may be null
   * @param running false once the tunnel is closing: the sweep does nothing
   */
  public Timers(String name, Settings t, LinkTable links, IndexTable indexes, Handshake handshake, Consumer<Link> startHandshake, Transmitter tx,
      SendPath<Link> out, LocalNodeView view, BooleanSupplier running, io.semnet.tunnel.internal.conn.LoopErrors errors) {
    this.errors = errors;
    this.name = name;
    this.t = t;
    this.links = links;
    this.indexes = indexes;
    this.handshake = handshake;
    this.startHandshake = startHandshake;
    this.tx = tx;
    this.out = out;
    this.view = view;
    this.running = running;
  }

  /** Schedules the sweep on {@code loop}. */
  public void start(EventLoop loop) {
    long tick = t.tickNanos();
    ticker = loop.scheduleAtFixedRate(this::tick, tick, tick, TimeUnit.NANOSECONDS);
  }

  /** Cancels the sweep. */
  public void stop() {
    if (ticker != null) {
      ticker.cancel(false);
    }
  }

  private void tick() {
    if (!running.getAsBoolean()) {
      return;
    }
    try {
      tickLinks();
    } catch (Throwable e) {
      // A periodic task that throws is never run again: keep the timers alive, count and log (LoopErrors).
      errors.failed(e, "in the timer sweep");
    }
  }

  private void tickLinks() {
    long now = System.nanoTime();
    for (Link l : links.all()) {
      if (l.closed) {
        continue;
      }
      if (now - l.lastUsedNanos > t.idleNanos()) {
        links.closeIdle(l);
        continue;
      }
      if (l.handshakePending() && now - l.helloSentNanos >= t.handshakeRetryNanos()) {
        if (l.helloAttempts >= t.probesBeforeDown() && l.up) {
          markDown(l);
        }
        handshake.sendHello(l);
      }
      retire(l, now);
      Session c = l.current;
      if (c == null) {
        continue;
      }
      probe(l, now);
      if (c.initiator && !l.handshakePending() && now - c.createdNanos >= t.rekeyNanos()) {
        startHandshake.accept(l);
      }
    }
    indexes.sweep(e -> e == e.link().current || e == e.link().previous || e == e.link().next || e == e.link().pending);
    out.flushChannel();
  }

  /** Drops the previous session after the grace and any session past the reject-after time. */
  private void retire(Link l, long now) {
    Session c = l.current;
    if (l.previous != null && (c == null || now - c.createdNanos >= t.keyGraceNanos() || l.previous.expired(now, t.rejectAfterNanos()))) {
      l.previous = null;
    }
    if (l.next != null && l.next.expired(now, t.rejectAfterNanos())) {
      l.next = null;
    }
    if (c != null && c.expired(now, t.rejectAfterNanos())) {
      l.current = null;
      l.probeOutstanding = false;
      boolean waiting;
      synchronized (l.waiting) {
        waiting = !l.waiting.isEmpty();
      }
      if (waiting && !l.handshakePending()) {
        startHandshake.accept(l);
      }
    }
  }

  private void probe(Link l, long now) {
    long keepaliveNanos = t.keepaliveNanos();
    long sinceProbe = now - l.probeSentNanos;
    boolean due;
    if (l.probeOutstanding) {
      // Do not wait a whole keepalive interval to notice a dead or restarted peer: an echo
      // overdue by max(1 s, 4 RTT) counts as missed and the next probe goes now.
      long rtt = l.lastRttNanos;
      due = sinceProbe >= Math.min(keepaliveNanos, Math.max(FAST_PROBE_TIMEOUT_NANOS, rtt > 0 ? 4 * rtt : 0));
    } else {
      // Data sent after the last datagram heard from the peer, unanswered for a second (a SYN
      // into a dead peer, say): ask now rather than at the next keepalive. A one-way stream to a
      // live peer costs one probe a second.
      long heard = l.lastReceivedNanos;
      boolean unanswered = l.lastUsedNanos - heard > 0 && now - heard >= FAST_PROBE_TIMEOUT_NANOS;
      due = sinceProbe >= keepaliveNanos || (unanswered && sinceProbe >= FAST_PROBE_TIMEOUT_NANOS);
    }
    if (due) {
      if (l.probeOutstanding && ++l.missedProbes >= t.probesBeforeDown() && l.up) {
        markDown(l);
        if (!l.handshakePending()) {
          // The peer may have restarted and lost our session: a new handshake recovers it.
          startHandshake.accept(l);
        }
      }
      tx.sendProbe(l);
    }
  }

  private void markDown(Link l) {
    l.up = false;
    if (view != null) {
      view.setPeerUp(l.nodeId, false);
    }
  }
}
