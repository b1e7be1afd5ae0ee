package io.semnet.resolver.enrol;

import io.semnet.resolver.transport.ControlTransport;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renews a node's registration automatically: at {@link Enrolled#renewAt()} (two thirds into the
 * validity) it calls {@link Enrolment#renew}, hands the result to a listener (e.g. to give the
 * tunnel its new certificate and store it) and schedules the next renewal; a failed attempt is
 * retried after a tenth of the remaining validity (at least 5 s, at most 5 min) until the
 * registration expires. One daemon thread; {@link #close()} stops it.
 */
public final class RegistrationRenewal implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RegistrationRenewal.class);

  private final ControlTransport transport;
  private final Supplier<byte[]> mqttPublicKey;
  private final Consumer<Enrolled> listener;
  private final ScheduledExecutorService timer;
  private volatile Enrolled current;

  private RegistrationRenewal(ControlTransport transport, Enrolled current, Supplier<byte[]> mqttPublicKey, Consumer<Enrolled> listener) {
    this.transport = Objects.requireNonNull(transport, "transport");
    this.current = Objects.requireNonNull(current, "current");
    this.mqttPublicKey = Objects.requireNonNull(mqttPublicKey, "mqttPublicKey");
    this.listener = Objects.requireNonNull(listener, "listener");
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "semnet-renewal-" + current.registration().nodeId());
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Starts renewing {@code current}.
   *
   * @param mqttPublicKey gives the MQTT public key to certify at each renewal (or null inside)
   * @param listener receives each renewed registration, on the renewal thread
   */
  public static RegistrationRenewal start(ControlTransport transport, Enrolled current, Supplier<byte[]> mqttPublicKey,
      Consumer<Enrolled> listener) {
    RegistrationRenewal r = new RegistrationRenewal(transport, current, mqttPublicKey, listener);
    r.schedule(Duration.between(Instant.now(), current.renewAt()));
    return r;
  }

  /** The registration held now (the latest renewed one). */
  public Enrolled current() {
    return current;
  }

  private void schedule(Duration delay) {
    timer.schedule(this::attempt, Math.max(0, delay.toMillis()), TimeUnit.MILLISECONDS);
  }

  private void attempt() {
    Enrolled held = current;
    try {
      Enrolled next = Enrolment.renew(transport, held, mqttPublicKey.get());
      current = next;
      listener.accept(next);
      schedule(Duration.between(Instant.now(), next.renewAt()));
    } catch (RuntimeException e) {
      Duration left = Duration.between(Instant.now(), held.signedRegistration().notAfter());
      if (left.isNegative() || left.isZero()) {
        log.error("registration of {} expired at {} without renewal ({}); enrol again with a join token",
            held.registration().nodeId(), held.signedRegistration().notAfter(), e.getMessage());
        return;
      }
      long retry = Math.min(300_000, Math.max(5_000, left.toMillis() / 10));
      log.warn("renewing the registration of {} failed ({}); retrying in {} ms", held.registration().nodeId(), e.getMessage(), retry);
      schedule(Duration.ofMillis(retry));
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
