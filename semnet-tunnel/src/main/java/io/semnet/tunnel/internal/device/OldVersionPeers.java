package io.semnet.tunnel.internal.device;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says once per source IP that a node of an older release (datagram format version 1) is talking
 * to this one, which speaks only version 2 (the README's rolling-upgrade note: upgrade every node
 * together). Remembers at most {@link #MAX_SOURCES} addresses, then says once that it stops
 * naming them, so a flood of forged version-1 datagrams cannot grow it or the log. Event loop only.
 */
final class OldVersionPeers {
  static final int MAX_SOURCES = 256;
  private static final Logger log = LoggerFactory.getLogger(OldVersionPeers.class);

  private final String nodeId;
  private final Set<InetAddress> told = new HashSet<>();
  private boolean full;

  OldVersionPeers(String nodeId) {
    this.nodeId = nodeId;
  }

  /** Logs (and returns true) the first time a version-1 datagram comes from {@code from}'s IP. */
  boolean seen(InetSocketAddress from) {
    InetAddress ip = from.getAddress();
    if (told.contains(ip)) {
      return false;
    }
    if (told.size() >= MAX_SOURCES) {
      if (!full) {
        full = true;
        log.warn("tunnel {}: version-1 datagrams from more than {} addresses; not naming further ones (counted as UNSUPPORTED_VERSION)",
            nodeId, MAX_SOURCES);
      }
      return false;
    }
    told.add(ip);
    log.warn("tunnel {}: a version-1 tunnel datagram from {}: that node runs an older SemNet release, whose tunnel format this "
        + "node (version 2) does not speak; its datagrams are dropped (UNSUPPORTED_VERSION) until it is upgraded. Upgrade all "
        + "nodes together (semnet-tunnel README, Rolling upgrade)", nodeId, from);
    return true;
  }
}
