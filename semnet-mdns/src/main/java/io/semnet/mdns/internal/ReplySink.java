package io.semnet.mdns.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/** Where the engine sends an answer: a UDP socket (to an address) or a TCP connection. */
public interface ReplySink {
  ByteBufAllocator alloc();

  /** Sends {@code msg} (ownership passes) to {@code dest} (an InetSocketAddress for UDP; ignored for TCP). */
  void send(Object dest, ByteBuf msg);

  /** True for a stream (TCP) connection, which carries messages up to 64 KiB; false for UDP. */
  default boolean isStream() {
    return false;
  }
}
