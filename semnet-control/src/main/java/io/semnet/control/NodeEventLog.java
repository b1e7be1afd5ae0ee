package io.semnet.control;

import io.semnet.control.store.RootEvent;
import io.semnet.control.store.RootStore;
import io.semnet.core.service.ServiceId;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The root's liveness events for orchestrators ({@link NodeEvent}), numbered consecutively and
 * kept in a bounded log (default {@value #DEFAULT_CAPACITY} events, oldest dropped first) so a
 * subscriber that was away can catch up by number ({@link #after}). Each number is made durable in
 * the root store before the event is visible ({@link RootEvent.EventSequence}), so a root that
 * restarts or takes over continues the numbering; the events themselves live only in the process
 * that saw them, so a subscriber asking across a takeover is told there is a {@linkplain Page#gap()
 * gap} (read the state back). A deposed leader on a fenced store cannot number anything. Obtain it
 * from {@link ServiceManager#nodeEvents()}. Thread-safe.
 */
public final class NodeEventLog {
  /** Events kept for catching up. */
  public static final int DEFAULT_CAPACITY = 4096;
  private static final Logger log = LoggerFactory.getLogger(NodeEventLog.class);

  private final RootStore store;
  private final Clock clock;
  private final int capacity;
  private final ArrayDeque<NodeEvent> events = new ArrayDeque<>();
  private final List<Consumer<NodeEvent>> listeners = new CopyOnWriteArrayList<>();
  private long last;

  NodeEventLog(RootStore store, long after, Clock clock, int capacity) {
    this.store = Objects.requireNonNull(store, "store");
    this.clock = clock;
    this.capacity = capacity;
    this.last = after;
  }

  /**
   * What a subscriber that saw everything up to a number gets: the events after it still kept, the
   * newest number, and whether events in between are no longer kept ({@code gap}).
   */
  public record Page(List<NodeEvent> events, boolean gap, long last) {
    public Page {
      events = List.copyOf(events);
    }
  }

  /** The newest event number (0 if none was ever handed out). */
  public synchronized long last() {
    return last;
  }

  /** The kept events numbered after {@code sequence}. */
  public synchronized Page after(long sequence) {
    List<NodeEvent> out = new ArrayList<>();
    for (NodeEvent e : events) {
      if (e.sequence() > sequence) {
        out.add(e);
      }
    }
    long first = events.isEmpty() ? last + 1 : events.peekFirst().sequence();
    return new Page(out, sequence < last && sequence + 1 < first, last);
  }

  /** Tells {@code listener} every new event, in order, on the thread that appends it; closing it stops. */
  public AutoCloseable subscribe(Consumer<NodeEvent> listener) {
    Objects.requireNonNull(listener, "listener");
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  /** Numbers, stores and publishes one event; null if the store refused the number (e.g. fenced). */
  synchronized NodeEvent append(NodeEvent.Kind kind, String nodeId, ServiceId service, int ordinal) {
    long seq = last + 1;
    try {
      store.append(new RootEvent.EventSequence(seq));
    } catch (RuntimeException e) {
      log.warn("liveness event {} {} not published: the root store refused its number: {}", kind, nodeId, e.getMessage());
      return null;
    }
    last = seq;
    NodeEvent ev = new NodeEvent(seq, clock.millis(), kind, nodeId, service, ordinal);
    events.addLast(ev);
    if (events.size() > capacity) {
      events.removeFirst();
    }
    for (Consumer<NodeEvent> l : listeners) {
      try {
        l.accept(ev);
      } catch (RuntimeException e) {
        log.warn("node event listener failed", e);
      }
    }
    return ev;
  }
}
