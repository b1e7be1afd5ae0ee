package io.semnet.proxy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** Per-ServiceIP tallies are bounded: the first addresses get their own, later ones share "other". */
class ServiceTalliesTest {
  @Test
  void addressesBeyondTheCapShareOneTally() throws Exception {
    ServiceTallies t = new ServiceTallies(ServiceTallies.DEFAULT_CAP, new ThreadScratches());
    for (int i = 0; i < 200; i++) {
      t.of(InetAddress.getByAddress(new byte[] {(byte) 172, 30, 0, (byte) i}), "rr").inserted();
    }
    assertEquals(ServiceTallies.DEFAULT_CAP + 1, t.all().size());
    ServiceTallies.Tally other = t.all().get(ServiceTallies.DEFAULT_CAP);
    assertEquals(ServiceTallies.OTHER, other.serviceIp);
    assertEquals(200 - ServiceTallies.DEFAULT_CAP, other.created());
    InetAddress first = InetAddress.getByAddress(new byte[] {(byte) 172, 30, 0, 0});
    assertSame(t.of(first, "rr"), t.of(first, "rr"), "a known address keeps its tally");
    assertSame(other, t.of(InetAddress.getByName("fd00::1"), "rr"), "a new address past the cap");
    assertEquals(200 - ServiceTallies.DEFAULT_CAP, other.active());
    assertEquals("instance", new ServiceTallies(1, new ThreadScratches()).of(InetAddress.getByName("fd53::2:1"), null).policy, "an InstanceIP");
  }

  @Test
  void bytesAreCountedPerThreadAndSummedWhenRead() throws Exception {
    ThreadScratches scratches = new ThreadScratches();
    ServiceTallies t = new ServiceTallies(2, scratches);
    ServiceTallies.Tally a = t.of(InetAddress.getByName("172.30.0.1"), "rr");
    t.of(InetAddress.getByName("172.30.0.2"), "rr");
    ServiceTallies.Tally other = t.of(InetAddress.getByName("172.30.0.3"), "rr");
    assertEquals(ServiceTallies.OTHER, other.serviceIp, "past the cap of 2");
    scratches.get().tallyBytes[a.index] += 100;
    Thread th = new Thread(() -> {
      scratches.get().tallyBytes[a.index] += 40;
      scratches.get().tallyBytes[other.index] += 7;
    });
    th.start();
    th.join();
    assertEquals(140, t.bytes(a), "both threads' bytes");
    assertEquals(7, t.bytes(other));
    assertSame(other, t.of(InetAddress.getByName("172.30.0.9"), "rr"));
    a.inserted();
    a.inserted();
    a.removed();
    assertEquals(2, a.created());
    assertEquals(1, a.active());
  }
}
