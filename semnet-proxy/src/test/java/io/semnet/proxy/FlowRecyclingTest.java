package io.semnet.proxy;

import static io.semnet.proxy.Harness.N2;
import static io.semnet.proxy.Harness.ip;
import static io.semnet.proxy.Pkt.assertAddresses;
import static io.semnet.proxy.Pkt.assertChecksums;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.WorkerEndpoint;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * New flows take recycled flow objects: a recycled flow carries only its new conversation, a
 * thread that may still hold flows holds recycling back, and control-plane work that kept a flow
 * across an asynchronous step never acts on the conversation that took its object afterwards.
 */
class FlowRecyclingTest {
  Harness h;

  @BeforeEach
  void setUp() throws Exception {
    h = new Harness();
  }

  @AfterEach
  void tearDown() {
    h.close();
  }

  /** Opens UDP flows from client A's ports {@code from..from+n-1} to the ServiceIP (one batch each). */
  private void open(int from, int n) {
    for (int p = from; p < from + n; p++) {
      h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(p, 53, 4)));
      Map.Entry<WorkerEndpoint, byte[]> out = h.tunnel.take();
      assertEquals(N2, out.getKey());
      assertAddresses(out.getValue(), "172.30.1.1", "10.2.0.2");
    }
  }

  /** A reply from server #0 to client port {@code p}: delivered as from the ServiceIP, or not at all. */
  private boolean replyDelivered(int p) {
    int before = h.io.written.size();
    h.fromPeer(N2, Pkt.v4("172.30.2.1", "172.30.1.1", 17, Pkt.udp(53, p, 4)));
    if (h.io.written.size() == before) {
      return false;
    }
    byte[] in = h.io.take();
    assertAddresses(in, "172.30.0.10", "10.1.0.2");
    assertEquals(p, Pkt.u16(in, 22), "the reply goes to the port of its own conversation");
    assertChecksums(in);
    return true;
  }

  @Test
  void recycledFlowsCarryOnlyTheirNewConversation() {
    open(10_000, 300);
    h.translator.clearFlows();
    open(20_000, 300);
    assertTrue(h.translator.recycledFlows() > 0, "flow objects were reused: " + h.translator.recycledFlows());
    assertEquals(300, h.translator.flowCount());
    assertEquals(300, h.view.activeFlows(h.server0.key()), "closed and opened flows both reported to the view");
    for (int p = 20_000; p < 20_300; p++) {
      assertTrue(replyDelivered(p), "reply to port " + p);
    }
    for (int p = 10_000; p < 10_300; p += 7) {
      assertTrue(!replyDelivered(p), "a reply to a cleared conversation (port " + p + ") finds no flow");
    }
    // Recycled again, through removal by expiry this time.
    h.translator.clearFlows();
    open(30_000, 300);
    for (int p = 30_000; p < 30_300; p += 3) {
      assertTrue(replyDelivered(p), "reply to port " + p);
    }
  }

  @Test
  void aThreadThatMayHoldFlowsHoldsRecyclingBackUntilItQuiescesOrEnds() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    Thread t = new Thread(() -> {
      // A packet without the end of its batch: this thread may still hold what it looked up.
      byte[] p = Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(9_999, 53, 4));
      ByteBuffer b = ByteBuffer.allocateDirect(p.length);
      b.put(p).flip();
      h.translator.onPacket(b);
      entered.countDown();
      try {
        finish.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "flow-recycling-holder");
    t.start();
    try {
      entered.await();
      h.tunnel.take();
      open(10_000, 100);
      h.translator.clearFlows();
      long before = h.translator.recycledFlows();
      open(20_000, 300);
      assertEquals(before, h.translator.recycledFlows(), "nothing recycled while a thread may hold flows");
    } finally {
      finish.countDown();
      t.join();
    }
    open(30_000, 300);
    assertTrue(h.translator.recycledFlows() > 0, "recycling resumes once the thread ended");
    for (int p = 30_000; p < 30_300; p += 5) {
      assertTrue(replyDelivered(p), "reply to port " + p);
    }
  }

  @Test
  void aReresolutionThatKeptAFlowDoesNotTouchTheConversationThatReusedIt() throws Exception {
    open(10_000, 1);
    h.resolver.hold = true;
    // Server #0's node says it has no such instance: the flow is kept while its ServiceIP resolves.
    h.translator.onRouteNotFound(N2, ip("10.2.0.2"));
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!h.resolver.held.containsKey(ip("172.30.0.10")) && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertTrue(h.resolver.held.containsKey(ip("172.30.0.10")), "re-resolution started");
    h.translator.clearFlows();
    open(20_000, 200); // the kept flow's object is reused by one of these
    assertTrue(h.translator.recycledFlows() > 0, "flow objects were reused");
    // The answer names the same place: the kept flow would be dropped ("must move"); its
    // object now carries another conversation, which must stay.
    h.resolver.release(ip("172.30.0.10"));
    assertEquals(200, h.translator.flowCount(), "no flow removed by the stale re-resolution");
    assertEquals(200, h.view.activeFlows(h.server0.key()));
    for (int p = 20_000; p < 20_200; p++) {
      assertTrue(replyDelivered(p), "reply to port " + p);
    }
  }

  /**
   * The TUN thread opens flows, the tunnel thread answers recent ones and the control plane clears
   * the table meanwhile, so flow objects are recycled while both threads look flows up: every
   * reply delivered must carry its own conversation's addresses and port. (A smoke test of the
   * reclamation under real concurrency; the races it guards against are narrow, so passing it is
   * not a proof.)
   */
  @Test
  void repliesStayWithTheirConversationWhileFlowsAreRecycledConcurrently() throws Exception {
    AtomicInteger latest = new AtomicInteger(1024);
    AtomicBoolean stop = new AtomicBoolean();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    AtomicInteger delivered = new AtomicInteger();
    Thread tun = new Thread(() -> {
      try {
        for (int i = 0; i < 10_000 && !stop.get(); i++) {
          int p = 1024 + (i % 60_000);
          h.fromTun(Pkt.v4("10.1.0.2", "172.30.0.10", 17, Pkt.udp(p, 53, 4)));
          latest.set(p);
          if (h.tunnel.sent.size() > 256) {
            h.tunnel.sent.clear();
          }
        }
      } catch (Throwable e) {
        failure.compareAndSet(null, e);
      }
    }, "recycling-tun");
    Thread peer = new Thread(() -> {
      try {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        while (!stop.get()) {
          int p = Math.max(1024, latest.get() - rnd.nextInt(64));
          int before = h.io.written.size();
          h.fromPeer(N2, Pkt.v4("172.30.2.1", "172.30.1.1", 17, Pkt.udp(53, p, 4)));
          if (h.io.written.size() > before) {
            byte[] in = h.io.written.remove(h.io.written.size() - 1);
            assertAddresses(in, "172.30.0.10", "10.1.0.2");
            assertEquals(p, Pkt.u16(in, 22), "a reply reached another conversation's port");
            assertChecksums(in);
            delivered.incrementAndGet();
          }
        }
      } catch (Throwable e) {
        failure.compareAndSet(null, e);
      }
    }, "recycling-peer");
    Thread control = new Thread(() -> {
      try {
        while (!stop.get()) {
          Thread.sleep(2);
          h.translator.clearFlows();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Throwable e) {
        failure.compareAndSet(null, e);
      }
    }, "recycling-control");
    tun.start();
    peer.start();
    control.start();
    tun.join(120_000);
    stop.set(true);
    tun.join();
    peer.join();
    control.join();
    if (failure.get() != null) {
      throw new AssertionError(failure.get());
    }
    System.out.printf("concurrent recycling: %d flows reused, %d replies delivered%n",
        h.translator.recycledFlows(), delivered.get());
    assertTrue(h.translator.recycledFlows() > 0, "flow objects were reused");
    assertTrue(delivered.get() > 0, "replies were delivered");
  }
}
