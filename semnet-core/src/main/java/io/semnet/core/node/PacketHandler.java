package io.semnet.core.node;

import java.nio.ByteBuffer;

/**
 * Receives IP packets read from the node's packet I/O (the TUN device), batch by batch: any number
 * of {@link #onPacket} calls followed by one {@link #onPacketBatchEnd}, so the receiver can group work
 * (flush the tunnel once per batch).
 */
public interface PacketHandler {
  /**
   * One IP packet between {@code packet.position()} and {@code packet.limit()}. The buffer is only
   * valid during the call and may be modified in place.
   */
  void onPacket(ByteBuffer packet);

  /** The end of a batch of packets. */
  default void onPacketBatchEnd() {}
}
