package io.semnet.tunnel.internal.handshake;

import io.semnet.tunnel.internal.link.Link;

/** Told on the event loop when a handshake installed a new session on a link (the send path then sends what waited). */
public interface SessionListener {
  /** @param initiator true on the side that opened the handshake (it then probes at once) */
  void established(Link link, boolean initiator);
}
