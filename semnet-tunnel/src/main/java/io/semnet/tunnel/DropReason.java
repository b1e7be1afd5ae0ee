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
  /**
   * A datagram in format version 1 (a node of an older release, before the Noise handshake):
   * not spoken here; logged once per source IP. Upgrade every node together (README).
   */
  UNSUPPORTED_VERSION,
  /** A message type this node does not know. */
  UNKNOWN_TYPE,
  /** Plaintext datagram on a sealed tunnel or the reverse. */
  MODE_MISMATCH,
  /** A transport datagram whose receiver index names no session of this node. */
  UNKNOWN_PEER,
  /** Initiation whose certificate is malformed, not signed by the root, expired, names this node, or does not vouch for the initiator's key. */
  BAD_CERTIFICATE,
  /** Initiation over its source IP's token bucket. */
  RATE_LIMITED,
  /** Handshake message whose mac1 is not keyed with this node's public key (garbage or meant for another node); no asymmetric work done. */
  BAD_MAC1,
  /** Initiation without a valid mac2 while this node is under load: answered with a cookie reply only. */
  COOKIE_REQUIRED,
  /** Authenticated, fresh initiation over its initiator static key's token bucket. */
  KEY_RATE_LIMITED,
  /** Initiation whose certificate is not cached and the per-second budget of signature verifications is spent. */
  VERIFY_LIMITED,
  /**
   * Initiation from a node or with a certificate on the revocation list, or a send to a peer whose
   * key the list revokes.
   */
  REVOKED,
  /** Initiation with a certificate older (by serial, then notBefore) than the one of the live link it would replace. */
  OLDER_CERTIFICATE,
  /** Transport datagram under a session older than the reject-after time (180 s). */
  KEY_EXPIRED,
  /** AEAD authentication failed: forged, corrupted, or sealed under another key. */
  AUTH_FAILED,
  /** Counter already seen or older than the replay window, or an initiation whose timestamp is not newer than the last accepted. */
  REPLAYED,
  /** Receiver index of a session that was retired (old key after its grace), or a response/cookie reply that matches no pending initiation. */
  STALE_KEY,
  /** Authenticated but its body does not parse (e.g. a route-not-found without an address), or a handshake message of the wrong shape. */
  MALFORMED,
  /** Send: the packet waits for a handshake and the link's queue is full (or the index table is full). */
  QUEUE_FULL,
  /** Send: the packet is larger than the tunnel carries. */
  TOO_LARGE,
  /** Send: the socket's write buffer is over its high-water mark (never blocks instead). */
  BACKPRESSURE,
  /** Send: the tunnel is not running. */
  CLOSED,
  /** Send: the kernel refused the datagram. */
  SEND_FAILED,
  /**
   * Something was thrown while the event loop handled a datagram, a batch end or a timer tick
   * (counted and logged; an unrecoverable error stops the node, see the README).
   */
  INTERNAL_ERROR
}
