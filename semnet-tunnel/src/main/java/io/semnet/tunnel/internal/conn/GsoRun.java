package io.semnet.tunnel.internal.conn;

import io.netty.buffer.ByteBuf;

/**
 * Datagrams a thread sealed back to back for one peer, all of one size but the last, sent as
 * one UDP GSO super-datagram: the kernel's UDP/IP and forwarding path runs once per run instead
 * of once per datagram, and a receiver with UDP GRO gets the run in one read. One per thread.
 */
final class GsoRun<P extends Peer> {
  /** Room for a run: the kernel's UDP_SEGMENT limit is 64 segments and 64 KiB. */
  static final int MAX_BYTES = 65_000;
  static final int MAX_SEGMENTS = 64;
  P peer;
  ByteBuf buf;
  int segmentSize;
  int segments;
  boolean ended;

  boolean accepts(P p, int size) {
    return buf == null || (p == peer && !ended && size <= segmentSize && segments < MAX_SEGMENTS
        && buf.maxWritableBytes() >= size);
  }

  /**
   * A run's buffer sized to what it holds: room for two datagrams of {@code size} at first, grown
   * by the allocator (doubling) as datagrams join, never beyond {@link #MAX_BYTES}. A run of one
   * small datagram so pins a few hundred bytes, not 64 KiB.
   */
  static ByteBuf newBuffer(io.netty.buffer.ByteBufAllocator alloc, int size) {
    return alloc.directBuffer(Math.min(MAX_BYTES, 2 * size), MAX_BYTES);
  }

  void start(P p, int size, ByteBuf b) {
    peer = p;
    buf = b;
    segmentSize = size;
    segments = 0;
    ended = false;
  }

  void added(int size) {
    segments++;
    ended = size < segmentSize;
  }

  void reset() {
    peer = null;
    buf = null;
    segments = 0;
  }
}
