package io.semnet.core.node;

import java.nio.ByteBuffer;

/**
 * The node's packet interface to its local instances: usually a TUN device that receives packets
 * routed to ServiceIPs, InstanceIPs and remote node subnets, and into which translated packets for
 * local instances are written. Reads are delivered to the {@link NodeContext#packetHandler()}.
 */
public interface PacketIo extends NodeComponent {
  /**
   * Writes one IP packet (position to limit). May buffer until {@link #flush()}; never blocks
   * indefinitely: drops and counts when the device is full.
   */
  void write(ByteBuffer packet);

  /** Pushes out buffered writes. */
  default void flush() {}

  /** MTU of the device in bytes. */
  int mtu();
}
