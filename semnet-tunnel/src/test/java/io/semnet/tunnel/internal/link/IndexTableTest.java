package io.semnet.tunnel.internal.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.WorkerEndpoint;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The receiver-index table agrees with a map under random adds, puts and removes, and stays bounded. */
class IndexTableTest {
  private static final Link LINK = new Link(WorkerEndpoint.of("p", new InetSocketAddress("127.0.0.1", 1), new byte[32]), new byte[32],
      null, 0);

  private static IndexTable.Entry entry() {
    return new Link.Pending(LINK, 0, null);
  }

  @Test
  void behavesLikeAMapAndRefusesBeyondItsCapacity() {
    IndexTable t = new IndexTable(64);
    Map<Integer, IndexTable.Entry> model = new HashMap<>();
    Random r = new Random(3);
    for (int step = 0; step < 20_000; step++) {
      int op = r.nextInt(3);
      if (op == 0 && model.size() < 64) {
        IndexTable.Entry e = entry();
        int i = t.add(e);
        assertTrue(i != -1 && !model.containsKey(i));
        model.put(i, e);
      } else if (op == 1 && !model.isEmpty()) {
        int i = model.keySet().stream().skip(r.nextInt(model.size())).findFirst().orElseThrow();
        t.remove(i, entry()); // not the entry it names: no effect
        t.remove(i, model.remove(i));
      } else {
        int probe = r.nextInt(8) == 0 || model.isEmpty() ? r.nextInt() : model.keySet().iterator().next();
        assertSame(model.get(probe), t.get(probe));
      }
      assertEquals(model.size(), t.size());
    }
    for (Map.Entry<Integer, IndexTable.Entry> e : model.entrySet()) {
      assertSame(e.getValue(), t.get(e.getKey()));
    }
    while (model.size() < 64) {
      IndexTable.Entry e = entry();
      model.put(t.add(e), e);
    }
    assertEquals(-1, t.add(entry()), "full");
    assertEquals(-1, t.reserve());
    assertFalse(t.put(12345, entry()) && !model.containsKey(12345), "no room for a new index");
    // a sweep removes what no link holds any more
    assertEquals(64, t.sweep(e -> false));
    assertEquals(0, t.size());
    assertNull(t.get(model.keySet().iterator().next()));
  }
}
