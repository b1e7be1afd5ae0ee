package io.semnet.control;

import com.fasterxml.jackson.databind.JsonNode;
import io.semnet.resolver.protocol.internal.Json;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An orchestrator's subscription to the root's liveness events: a signed {@code events} call every
 * {@code renewal} keeps the subscription alive at the root and returns what was missed (so a
 * reconnect or a lost push is repaired within one renewal); pushes deliver new events at once. Each
 * event reaches the listener once, in order: a push that skips a number triggers an immediate
 * catch-up call instead of being delivered early. Thread-safe.
 */
final class EventFeed implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EventFeed.class);

  private final Function<Long, JsonNode> fetch;
  private final NodeEventListener listener;
  private final ScheduledExecutorService timer;
  private long last;

  /** @param fetch the signed {@code events} call: the page after a number */
  EventFeed(Function<Long, JsonNode> fetch, long after, NodeEventListener listener, Duration renewal) {
    this.fetch = fetch;
    this.listener = listener;
    this.last = after;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "semnet-node-events");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleWithFixedDelay(this::poll, 0, renewal.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The number of the last event delivered. */
  synchronized long last() {
    return last;
  }

  private void poll() {
    long after;
    synchronized (this) {
      after = last;
    }
    JsonNode page;
    try {
      page = fetch.apply(after);
    } catch (RuntimeException e) {
      log.debug("node events: catching up after {} failed: {}", after, e.getMessage());
      return;
    }
    synchronized (this) {
      if (Json.has(page, "gap") && page.get("gap").asBoolean()) {
        JsonNode events = page.get("events");
        long first = events.size() > 0 ? Json.integer(events.get(0), "seq") : Json.integer(page, "last") + 1;
        if (first - 1 > last) {
          long from = last;
          last = first - 1;
          listener.onGap(from, first - 1);
        }
      }
      deliver(page, false);
    }
  }

  /** A pushed page ({@code {"events":[...]}}) from the root. */
  void onPush(JsonNode body) {
    synchronized (this) {
      if (deliver(body, true)) {
        return;
      }
    }
    try {
      timer.execute(this::poll); // a number was skipped: catch up in order
    } catch (RejectedExecutionException e) {
      // closed
    }
  }

  /** Delivers the page's events after {@link #last} in order; false if {@code strict} and one skips a number. */
  private boolean deliver(JsonNode page, boolean strict) {
    for (JsonNode n : Json.array(page, "events")) {
      NodeEvent e = EventSubscriptions.event(n);
      if (e.sequence() <= last) {
        continue;
      }
      if (strict && e.sequence() != last + 1) {
        return false;
      }
      last = e.sequence();
      try {
        listener.onEvent(e);
      } catch (RuntimeException ex) {
        log.warn("node event listener failed on {}", e, ex);
      }
    }
    return true;
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
