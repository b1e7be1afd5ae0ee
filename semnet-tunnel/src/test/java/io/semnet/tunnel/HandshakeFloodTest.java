package io.semnet.tunnel;

import static io.semnet.tunnel.UdpTunnelTest.packet;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.tunnel.Harness.Delivery;
import io.semnet.tunnel.Harness.Node;
import io.semnet.tunnel.internal.Datagram;
import io.semnet.tunnel.internal.noise.HandshakeCodec;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Issue 14: garbage at 20,000 datagrams/s and replayed initiations at 2,000/s for 10 s (fixed,
 * paced rates, from their own loopback addresses); meanwhile legitimate peers still complete their
 * handshakes (the median of three within one second), and every flood datagram is counted under
 * its own reason.
 */
class HandshakeFloodTest {
  private static final int GARBAGE_PER_SECOND = 20_000;
  private static final int REPLAYS_PER_SECOND = 2_000;
  private static final long FLOOD_NANOS = TimeUnit.SECONDS.toNanos(10);

  @Test
  void legitimatePeersHandshakeWithinASecondUnderGarbageAndReplayFloods() throws Exception {
    try (Harness h = new Harness()) {
      // recvmmsg batches (udpGro off): the flood is thousands of small datagrams from few sources, which
      // GRO cannot coalesce; one recvmsg each left the event loop starved on a loaded 2-core machine
      Node b = h.node("b", x -> x.udpGro(false));
      InetSocketAddress target = b.tunnel.boundAddress();
      // a real initiation to replay: captured on the path of an earlier, legitimate handshake
      byte[] initiation;
      try (Relay path = new Relay(new InetSocketAddress("127.0.0.1", 0), target)) {
        Node r = h.node("r");
        r.send(WorkerEndpoint.of("b", path.address(), b.keys.publicKey()), packet(20, 0));
        assertNotNull(b.received.next());
        initiation = path.toTarget.stream().filter(x -> x[1] == Datagram.TYPE_INITIATION).findFirst().orElseThrow();
      }
      b.received.data.clear();

      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong garbageSent = new AtomicLong();
      AtomicLong replaysSent = new AtomicLong();
      long[] errors = new long[1];
      Thread flood = new Thread(() -> {
        try (DatagramChannel g = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.2", 0));
            DatagramChannel rp = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.3", 0))) {
          Random rnd = new Random(14);
          byte[] junk = new byte[HandshakeCodec.INITIATION_BYTES + 120];
          ByteBuffer replay = ByteBuffer.wrap(initiation);
          long start = System.nanoTime();
          long now;
          while ((now = System.nanoTime()) - start < FLOOD_NANOS && !stop.get()) {
            long elapsed = now - start;
            long garbageDue = elapsed * GARBAGE_PER_SECOND / 1_000_000_000L;
            long replaysDue = elapsed * REPLAYS_PER_SECOND / 1_000_000_000L;
            while (garbageSent.get() < garbageDue) {
              long n = garbageSent.get();
              rnd.nextBytes(junk);
              int len;
              if ((n & 1) == 0) {
                junk[0] = 1; // random bytes in the old v1 shape: not this version
                len = 16 + rnd.nextInt(200);
              } else {
                junk[0] = 2; // initiation-shaped with random MACs
                junk[1] = Datagram.TYPE_INITIATION;
                junk[2] = 0;
                junk[3] = 0;
                len = junk.length;
              }
              g.send(ByteBuffer.wrap(junk, 0, len), target);
              garbageSent.incrementAndGet();
            }
            while (replaysSent.get() < replaysDue) {
              rp.send(replay.duplicate(), target);
              replaysSent.incrementAndGet();
            }
            TimeUnit.MICROSECONDS.sleep(200);
          }
        } catch (Exception e) {
          errors[0]++;
          e.printStackTrace();
        }
      }, "flood");
      flood.start();

      // legitimate peers, each from its own address, start handshakes while the flood runs
      List<Long> millis = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        Thread.sleep(i == 0 ? 2000 : 2500);
        Node legit = h.node("legit" + i, NodeKeys.generate(), new InetSocketAddress("127.0.0." + (4 + i), 0), x -> {});
        long t0 = System.nanoTime();
        legit.send(b.endpoint(), packet(20, i + 1));
        Delivery d = b.received.data.poll(5, TimeUnit.SECONDS);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        millis.add(ms);
        LinkStats ls = legit.tunnel.stats().link("b");
        System.out.printf("legit%d: %d ms, %d datagrams sent, %d received; b: %s%n", i, ms, ls == null ? -1 : ls.txPackets(),
            ls == null ? -1 : ls.rxPackets(), b.tunnel.stats().drops());
        assertNotNull(d, "legitimate peer " + i + " got through the flood");
        assertArrayEquals(packet(20, i + 1), d.bytes());
      }
      flood.join();
      assertTrue(errors[0] == 0, "flood sender failed");

      long garbage = garbageSent.get();
      long replays = replaysSent.get();
      Harness.await("every flood datagram counted", Duration.ofSeconds(10), () -> counted(b) >= garbage + replays);
      TunnelStats st = b.tunnel.stats();
      System.out.printf("flood: %d garbage (%.0f/s), %d replays (%.0f/s); legitimate handshakes took %s ms; drops %s; kernel drops %d;"
          + " Ed25519 verifications %d%n", garbage, garbage / 10.0, replays, replays / 10.0, millis, st.drops(), st.receiveBufferDrops(),
          b.tunnel.certificateVerifications());
      assertTrue(garbage >= GARBAGE_PER_SECOND * 9L && replays >= REPLAYS_PER_SECOND * 9L, "rates held: " + garbage + ", " + replays);
      // The 1 s holds for the median peer; a single peer may lose datagrams in the kernel
      // while a loaded machine starves the event loop (seen once in six runs at load 11-13: 2.3 s), so
      // each must only complete, well within its retries.
      List<Long> sorted = new ArrayList<>(millis);
      java.util.Collections.sort(sorted);
      assertTrue(sorted.get(1) < 1000, "the median legitimate handshake within 1 s: " + millis);
      assertTrue(sorted.get(2) < 5000, "every legitimate handshake completes: " + millis);
      long kernel = Math.max(0, st.receiveBufferDrops());
      // garbage: half version 1, half initiations with a bad mac1 (no X25519 spent on either)
      assertTrue(st.drops(DropReason.UNSUPPORTED_VERSION) + kernel >= garbage / 2, st.drops().toString());
      assertTrue(st.drops(DropReason.BAD_MAC1) + kernel >= garbage / 2, st.drops().toString());
      // replays: under load answered with cookies, which the replayer cannot use; the few that passed
      // before the load was noticed hit the source's bucket or the timestamp floor
      long replayDrops = st.drops(DropReason.COOKIE_REQUIRED) + st.drops(DropReason.RATE_LIMITED) + st.drops(DropReason.REPLAYED);
      assertTrue(replayDrops + kernel >= replays, st.drops().toString());
      assertTrue(st.drops(DropReason.COOKIE_REQUIRED) > replays / 2, "load noticed: " + st.drops());
      assertTrue(st.drops(DropReason.REPLAYED) >= 1, "a replay that got through the buckets is refused by the floor");
      // at most the source bucket's burst (20) plus its rate (50/s) over the 10 s ever reach X25519
      assertTrue(st.drops(DropReason.REPLAYED) <= 20 + 50 * 10, "replays reaching Noise are bounded by the source bucket: " + st.drops());
      assertTrue(b.tunnel.certificateVerifications() <= 5, "one verification per certified node");
    }
  }

  private static long counted(Node b) {
    TunnelStats st = b.tunnel.stats();
    return st.drops(DropReason.UNSUPPORTED_VERSION) + st.drops(DropReason.BAD_MAC1) + st.drops(DropReason.COOKIE_REQUIRED)
        + st.drops(DropReason.RATE_LIMITED) + st.drops(DropReason.REPLAYED) + Math.max(0, st.receiveBufferDrops());
  }
}
