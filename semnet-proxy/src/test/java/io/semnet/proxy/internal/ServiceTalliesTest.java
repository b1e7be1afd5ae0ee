package io.semnet.proxy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** Per-ServiceIP tallies are bounded: the first addresses get their own, later ones share "other". */
class ServiceTalliesTest {
  @Test
  void addressesBeyondTheCapShareOneTally() throws Exception {
    ServiceTallies t = new ServiceTallies(ServiceTallies.DEFAULT_CAP);
    for (int i = 0; i < 200; i++) {
      t.of(InetAddress.getByAddress(new byte[] {(byte) 172, 30, 0, (byte) i}), "rr").created.increment();
    }
    assertEquals(ServiceTallies.DEFAULT_CAP + 1, t.all().size());
    ServiceTallies.Tally other = t.all().get(ServiceTallies.DEFAULT_CAP);
    assertEquals(ServiceTallies.OTHER, other.serviceIp);
    assertEquals(200 - ServiceTallies.DEFAULT_CAP, other.created.sum());
    InetAddress first = InetAddress.getByAddress(new byte[] {(byte) 172, 30, 0, 0});
    assertSame(t.of(first, "rr"), t.of(first, "rr"), "a known address keeps its tally");
    assertSame(other, t.of(InetAddress.getByName("fd00::1"), "rr"), "a new address past the cap");
    assertEquals("instance", new ServiceTallies(1).of(InetAddress.getByName("fd53::2:1"), null).policy, "an InstanceIP");
  }
}
