package io.semnet.mqtt;

import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that publishes, so messages leave in the order they were handed over, with at
 * most {@code inflight} unacknowledged QoS 1 publishes, and never more than the Receive Maximum the
 * broker announced in its CONNACK ({@link #limitTo}): past it Paho refuses the publish and the
 * message would be lost (mosquitto announces its {@code max_inflight_messages}, 20 by default).
 */
final class Sender implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(MqttTransport.class);

  private final MqttTransport t;

  private final int inflight;
  /** Replaced on every connect; a publish releases the window it was admitted by. */
  volatile Semaphore window;
  final LinkedBlockingQueue<Out> queue;
  final Thread thread;
  final AtomicLong dropped = new AtomicLong();
  /** Messages the broker acknowledged. */
  final AtomicLong sent = new AtomicLong();
  final AtomicInteger busy = new AtomicInteger();
  volatile boolean running = true;

  Sender(MqttTransport t, int inflight, int maxQueued) {
    this.t = t;
    this.inflight = inflight;
    this.window = new Semaphore(inflight);
    this.queue = new LinkedBlockingQueue<>(maxQueued);
    this.thread = MqttTransport.daemon(this, "semnet-mqtt-" + t.nodeId + "-send");
  }

  void start() {
    thread.start();
  }

  boolean send(String topic, byte[] payload, boolean retained) {
    if (!running || !queue.offer(new Out(topic, payload, retained))) {
      dropped.incrementAndGet();
      return false;
    }
    return true;
  }

  /**
   * Caps the window at the broker's Receive Maximum for the connection just made ({@code null}:
   * none announced, i.e. 65,535). Called before anything is published on that connection.
   */
  void limitTo(Integer brokerReceiveMaximum) {
    int max = brokerReceiveMaximum == null || brokerReceiveMaximum <= 0 ? 65_535 : brokerReceiveMaximum;
    int w = Math.min(inflight, max);
    if (w < inflight) {
      log.debug("{}: broker receives at most {} unacknowledged publishes; window {} instead of {}", t.nodeId, max, w, inflight);
    }
    window = new Semaphore(w);
  }

  void drain(Duration max) {
    long deadline = System.nanoTime() + max.toNanos();
    while ((!queue.isEmpty() || busy.get() > 0) && t.connected && System.nanoTime() < deadline) {
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  void stop() {
    running = false;
    thread.interrupt();
  }

  @Override
  public void run() {
    while (running) {
      Out o;
      try {
        o = queue.take();
      } catch (InterruptedException e) {
        return;
      }
      busy.incrementAndGet();
      try {
        if (!t.connected) {
          dropped.incrementAndGet();
          continue;
        }
        Semaphore w;
        while (!(w = window).tryAcquire(100, TimeUnit.MILLISECONDS)) {
          if (!running) {
            return;
          }
        }
        Semaphore admitted = w;
        try {
          t.client.publish(o.topic(), o.payload(), MqttTransport.QOS, o.retained(), null, new MqttActionListener() {
            @Override
            public void onSuccess(IMqttToken token) {
              admitted.release();
              int[] codes = token.getReasonCodes();
              if (codes != null && codes.length > 0 && codes[0] >= 0x80) {
                // The broker took the packet but refused the message (0x87: not authorised by the ACL).
                dropped.incrementAndGet();
                t.refusals.reject("broker refused publish (reason code 0x" + Integer.toHexString(codes[0]) + ")", o.topic(), "check the ACL");
              } else {
                sent.incrementAndGet();
              }
            }

            @Override
            public void onFailure(IMqttToken token, Throwable e) {
              admitted.release();
              dropped.incrementAndGet();
            }
          });
        } catch (MqttException e) {
          admitted.release();
          dropped.incrementAndGet();
          log.debug("publish to {} failed: {}", o.topic(), e.getMessage());
        }
      } catch (InterruptedException e) {
        return;
      } finally {
        busy.decrementAndGet();
      }
    }
  }

  record Out(String topic, byte[] payload, boolean retained) {}
}
