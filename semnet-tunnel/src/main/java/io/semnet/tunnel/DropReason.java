package io.semnet.tunnel;

/**
 * Why the tunnel dropped a datagram or a packet. Receive-side reasons are counted without reply and
 * without creating state; send-side reasons are counted instead of blocking the caller.
 */
public enum DropReason {
  /** Shorter than its header or than its type requires. */
  TRUNCATED,
  /** A header version this node does not speak. */
  UNKNOWN_VERSION,
  /** A message type this node does not know. */
  UNKNOWN_TYPE,
  /** Plaintext datagram on a sealed tunnel or the reverse. */
  MODE_MISMATCH,
  /** From a source address with no link (never completed a first contact). */
  UNKNOWN_PEER,
  /** First contact whose certificate is malformed, not signed by the root, expired, or names this node. */
  BAD_CERTIFICATE,
  /** First contact over the rate limit for certificate checks. */
  RATE_LIMITED,
  /** AEAD authentication failed: forged, corrupted, or sealed under another key. */
  AUTH_FAILED,
  /** Counter already seen or older than the replay window, or a stale first contact or reply. */
  REPLAYED,
  /** Key id or sender epoch that matches no session of the link (old key, peer restart). */
  STALE_KEY,
  /** Authenticated but its body does not parse (e.g. a route-not-found without an address). */
  MALFORMED,
  /** Send: the packet waits for a handshake and the link's queue is full. */
  QUEUE_FULL,
  /** Send: the packet is larger than the tunnel carries. */
  TOO_LARGE,
  /** Send: the socket's write buffer is over its high-water mark (never blocks instead). */
  BACKPRESSURE,
  /** Send: the tunnel is not running. */
  CLOSED,
  /** Send: the kernel refused the datagram. */
  SEND_FAILED
}
