package io.semnet.tunnel.internal.device;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** A version-1 peer is named once per source IP (any port), and a flood of forged sources stays bounded. */
class OldVersionPeersTest {
  @Test
  void namedOncePerSourceIpAndBounded() {
    OldVersionPeers p = new OldVersionPeers("n");
    assertTrue(p.seen(new InetSocketAddress("127.0.0.2", 5000)));
    assertFalse(p.seen(new InetSocketAddress("127.0.0.2", 5000)));
    assertFalse(p.seen(new InetSocketAddress("127.0.0.2", 6000)), "same IP, another port (NAT): already named");
    assertTrue(p.seen(new InetSocketAddress("127.0.0.3", 5000)));
    for (int i = 0; i < 10_000; i++) {
      p.seen(new InetSocketAddress("10." + (i >> 8 & 255) + "." + (i & 255) + ".1", 1));
    }
    assertFalse(p.seen(new InetSocketAddress("192.0.2.1", 1)), "beyond the bound nothing more is named (or remembered)");
  }
}
