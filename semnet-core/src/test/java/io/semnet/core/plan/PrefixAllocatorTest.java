package io.semnet.core.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.IpPrefix;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PrefixAllocatorTest {
  /** A clock the test moves by hand. */
  static final class ManualClock extends Clock {
    Instant now = Instant.parse("2026-01-01T00:00:00Z");

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }
  }

  private final ManualClock clock = new ManualClock();

  @Test
  void nodeSubnetsNeverComeFromTheCarvedServiceRange() {
    AddressPlan plan = AddressPlan.defaults();
    PrefixAllocator nodes = plan.newNodeSubnetAllocator(plan.ipv4().platformRange(), clock);
    IpPrefix services = plan.ipv4().virtualRange();
    Set<IpPrefix> seen = new HashSet<>();
    long expected = (1L << 14) - (1L << 10); // /12 in /26s, minus the /16 carved out
    for (long i = 0; i < expected; i++) {
      IpPrefix p = nodes.allocate();
      assertFalse(services.overlaps(p), p + " overlaps the service range");
      assertTrue(seen.add(p), p + " handed out twice");
    }
    AllocationException e = assertThrows(AllocationException.class, nodes::allocate);
    assertTrue(e.getMessage().contains("no free /26"));
    assertThrows(AllocationException.class, () -> nodes.allocate(IpPrefix.parse("172.30.0.0/26")));
  }

  @Test
  void quarantineDelaysReuse() {
    PrefixAllocator a = new PrefixAllocator(IpPrefix.parse("10.0.0.0/30"), 32, List.of(), Duration.ofMinutes(5), clock);
    List<IpPrefix> all = List.of(a.allocate(), a.allocate(), a.allocate(), a.allocate());
    assertThrows(AllocationException.class, a::allocate);
    a.release(all.get(1));
    AllocationException e = assertThrows(AllocationException.class, a::allocate);
    assertTrue(e.getMessage().contains("1 in quarantine"));
    assertThrows(AllocationException.class, () -> a.allocate(all.get(1)));
    clock.advance(Duration.ofMinutes(5));
    assertEquals(all.get(1), a.allocate());
  }

  @Test
  void pinnedAndFailedCallsChangeNothing() {
    PrefixAllocator a = new PrefixAllocator(IpPrefix.parse("10.0.0.0/24"), 32, List.of(), Duration.ZERO, clock);
    IpPrefix pinned = IpPrefix.parse("10.0.0.7/32");
    a.allocate(pinned);
    List<IpPrefix> before = a.allocated();
    assertThrows(AllocationException.class, () -> a.allocate(pinned));
    assertThrows(AllocationException.class, () -> a.allocate(IpPrefix.parse("10.0.1.7/32")));
    assertThrows(AllocationException.class, () -> a.release(IpPrefix.parse("10.0.0.8/32")));
    assertEquals(before, a.allocated());
    for (int i = 0; i < 255; i++) {
      assertNotEquals(pinned, a.allocate());
    }
  }

  @Test
  void randomizedAllocateFreeNeverOverlapsAndHonoursQuarantine() {
    Random rnd = new Random(42);
    Duration q = Duration.ofSeconds(30);
    PrefixAllocator a = new PrefixAllocator(IpPrefix.parse("10.64.0.0/16"), 26, List.of(IpPrefix.parse("10.64.128.0/20")), q, clock);
    Set<IpPrefix> live = new HashSet<>();
    Map<IpPrefix, Instant> released = new HashMap<>();
    List<IpPrefix> liveList = new ArrayList<>();
    for (int step = 0; step < 20_000; step++) {
      int op = rnd.nextInt(10);
      if (op < 6 || liveList.isEmpty()) {
        IpPrefix p;
        try {
          p = a.allocate();
        } catch (AllocationException e) {
          assertTrue(live.size() + released.size() >= 1024 - 64 - 64, "exhausted too early: " + e.getMessage());
          continue;
        }
        for (IpPrefix other : live) {
          assertFalse(other.overlaps(p), p + " overlaps live " + other);
        }
        assertFalse(IpPrefix.parse("10.64.128.0/20").overlaps(p));
        Instant freedAt = released.remove(p);
        if (freedAt != null) {
          assertFalse(clock.instant().isBefore(freedAt.plus(q)), p + " reused inside its quarantine");
        }
        live.add(p);
        liveList.add(p);
      } else if (op < 9) {
        IpPrefix p = liveList.remove(rnd.nextInt(liveList.size()));
        live.remove(p);
        a.release(p);
        released.put(p, clock.instant());
      } else {
        clock.advance(Duration.ofSeconds(rnd.nextInt(20)));
      }
      released.values().removeIf(t -> !clock.instant().isBefore(t.plus(q)));
    }
    assertEquals(live, new HashSet<>(a.allocated()));
  }

  @Test
  void stateSurvivesARestore() {
    PrefixAllocator a = new PrefixAllocator(IpPrefix.parse("10.0.0.0/29"), 32, List.of(), Duration.ofMinutes(1), clock);
    IpPrefix x = a.allocate();
    IpPrefix y = a.allocate();
    a.release(y);
    PrefixAllocator b = new PrefixAllocator(IpPrefix.parse("10.0.0.0/29"), 32, List.of(), Duration.ofMinutes(1), clock);
    b.restore(a.allocated(), a.quarantined());
    for (int i = 0; i < 6; i++) {
      IpPrefix p = b.allocate();
      assertNotEquals(x, p);
      assertNotEquals(y, p);
    }
  }
}
